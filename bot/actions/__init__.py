"""Custom actions (rasa_sdk): the answer gate and the handoff to counsellors."""
