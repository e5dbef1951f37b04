"""Custom Rasa NLU components (text normalisation, safety gate).

Importing this package also patches Rasa's check of the action server's responses with a validator built
once (``validation_patch``, issue 13): the Rasa server imports it when it loads the model.
"""
from bot.components import validation_patch  # noqa: F401  (import side effect: the patch)
