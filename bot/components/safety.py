"""Rasa NLU component at the end of the pipeline: distress always wins.

Runs after the classifiers.  When ``orientbot.safety`` recognises distress or
danger in a message, the intent becomes ``distress`` with full confidence,
whatever DIET predicted, and a ``distress_kind`` entity says which numbers fit.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import StatelessComponent
from orientbot.safety import detect_distress


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyGate(StatelessComponent):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith("/"):
                continue
            distress = detect_distress(text, already_normalised=True)
            if distress is None:
                continue
            intent = {"name": "distress", "confidence": 1.0}
            ranking = [intent] + [i for i in message.get(INTENT_RANKING_KEY, []) if i.get("name") != "distress"]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            entities = message.get(ENTITIES, []) + [
                {"entity": "distress_kind", "value": distress.kind, "extractor": self.__class__.__name__}
            ]
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
