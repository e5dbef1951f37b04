"""The Rasa assistant: custom NLU components, actions and training data."""
