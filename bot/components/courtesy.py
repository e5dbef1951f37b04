"""Rasa NLU component after the classifiers: a greeting or thanks that also asks something goes to the answer policy.

DIET reads "Merci. Doit-elle ensuite indiquer lesquels elle préfère ?" as ``thanks``, and the thanks rule
answered "Je vous en prie. Avez-vous une autre question ?": the question was lost. Replaying the NLU in
cross-validation (`make eval-nlu`, docs/nlu-crossval.txt) found 11 such questions among 1,734 (9 thanks, 2
greetings). When the text as typed asks beyond its courtesy (``orientbot.followup.asks_beyond_courtesy``), the
intent becomes ``faq``, which the rules send to the answer policy; "ok merci" and "salut ça va ?" keep theirs.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from bot.components.base import StatelessComponent
from bot.components.normaliser import TYPED_TEXT
from orientbot.followup import asks_beyond_courtesy

COURTESY_INTENTS = ("greet", "thanks", "goodbye")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class QuestionBeyondCourtesy(StatelessComponent):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            found = message.get(INTENT) or {}
            typed = message.get(TYPED_TEXT)
            if found.get("name") not in COURTESY_INTENTS or not isinstance(typed, str) or not asks_beyond_courtesy(typed):
                continue
            intent = {"name": "faq", "confidence": float(found.get("confidence") or 0.0)}
            ranking = [intent] + [i for i in message.get(INTENT_RANKING_KEY, []) if i.get("name") != "faq"]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
