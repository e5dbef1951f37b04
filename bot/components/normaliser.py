"""Rasa NLU component at the head of the pipeline: the one normaliser, plus the audience.

Every training example and every incoming message goes through
``orientbot.normalise.normalise`` here, so training and serving see text the
same way.  The audience sent by the client in the message metadata (``eleve``
or ``parent``) becomes an ``audience`` entity, which fills the slot that picks
tutoiement or vouvoiement in the responses.
"""
from __future__ import annotations

from typing import Any, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.base import StatelessComponent
from orientbot.normalise import normalise

AUDIENCES = ("eleve", "parent")
EMPTY_TEXT = "message vide"
# The message as typed, kept beside the normalised text for the components that need its punctuation
# (``bot.components.courtesy``); not part of the parse Rasa returns.
TYPED_TEXT = "orientbot_typed_text"


def audience_from_metadata(metadata: Any) -> str:
    if isinstance(metadata, dict) and metadata.get("audience") in AUDIENCES:
        return metadata["audience"]
    return "eleve"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextNormaliser(StatelessComponent):
    @staticmethod
    def _normalise(message: Message) -> None:
        text = message.get(TEXT)
        # Button payloads ("/choose_kb{...}") are read by Rasa's RegexMessageHandler later on.
        if not isinstance(text, str) or text.startswith("/"):
            return
        message.set(TYPED_TEXT, text)
        message.set(TEXT, normalise(text) or EMPTY_TEXT)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalise(example)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalise(message)
            audience = audience_from_metadata(message.get("metadata"))
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != "audience"]
            entities.append({"entity": "audience", "value": audience, "extractor": self.__class__.__name__})
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
