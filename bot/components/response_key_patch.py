"""The ResponseSelector finds a label's response key in a table instead of a walk of every response (issue 13).

Rasa 3.6's ``ResponseSelector._resolve_intent_response_key`` walks every retrieval response (each key, then
each of its texts) until one matches the label's name, for the top label and again for each of the ten of the
ranking: with this knowledge base's hundreds of answers, ~0.3 ms of CPU a message (measured as for
``count_vectors_patch``). Here the walk is made once
into a table, in Rasa's order, keeping for each name the first key the walk would return (``setdefault``); the
table is made again if the selector's ``responses`` are replaced or change size, and a name that cannot be
looked up in a table (unhashable) goes through Rasa's walk. Same keys, so the same parse
(``tests/bot/test_nlu_speed_patches.py``).

How it is applied: as ``validation_patch``, imported with ``bot.components`` when the Rasa server loads the
model, without retraining. ``ORIENTBOT_RESPONSE_KEY_TABLE=0`` leaves Rasa's method in place (to measure the
difference).
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text, Tuple

from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data import util

from bot.components.switches import switched_off

ENV_SWITCH = "ORIENTBOT_RESPONSE_KEY_TABLE"
ORIGINAL = ResponseSelector.__dict__["_resolve_intent_response_key"]
_ATTRIBUTE = "_orientbot_response_keys"


def key_table(responses: Dict[Text, Any]) -> Optional[Dict[Any, Text]]:
    """Name -> the key Rasa's walk returns first for it; None if a response text cannot be a table key."""
    table: Dict[Any, Text] = {}
    try:
        for key, texts in responses.items():
            search_key = util.template_key_to_intent_response_key(key)
            table.setdefault(search_key, search_key)
            for response in texts:
                table.setdefault(response.get(TEXT, ""), search_key)
    except TypeError:  # an unhashable text: Rasa's walk
        return None
    return table


def resolve_intent_response_key(self: ResponseSelector, label: Dict[Text, Optional[Text]]) -> Optional[Text]:
    """``ResponseSelector._resolve_intent_response_key``, from a table made once."""
    responses = self.responses
    made: Optional[Tuple[Any, int, Optional[Dict[Any, Text]]]] = self.__dict__.get(_ATTRIBUTE)
    if made is None or made[0] is not responses or made[1] != len(responses):
        made = (responses, len(responses), key_table(responses))
        setattr(self, _ATTRIBUTE, made)
    table = made[2]
    name = label.get("name")
    if table is not None:
        try:
            return table.get(name)
        except TypeError:  # an unhashable name: Rasa's walk
            pass
    return ORIGINAL(self, label)


resolve_intent_response_key.orientbot_table = True  # type: ignore[attr-defined]


def install() -> bool:
    """Puts the patched method in place (idempotent); False when switched off by the environment."""
    if switched_off(ENV_SWITCH):
        return False
    ResponseSelector._resolve_intent_response_key = resolve_intent_response_key  # type: ignore[assignment]
    return True


def uninstall() -> None:
    """Puts Rasa's own method back (to measure, and for the tests' comparison)."""
    ResponseSelector._resolve_intent_response_key = ORIGINAL  # type: ignore[assignment]


def installed() -> bool:
    return getattr(ResponseSelector.__dict__["_resolve_intent_response_key"], "orientbot_table", False)


install()
