"""Custom Rasa NLU components (text normalisation, safety gate)."""
