"""The action Rasa's rules run for distress, a request for a person, a personal case, "none of these".

NLU's intent is one input of the answer policy among others: the policy decides, so a personal-case
intent on a general question still gets its answer, and distress is handed over whatever NLU said.
"""
from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.faq import respond
from bot.actions.services import ServiceAction


class ActionHandoff(ServiceAction):
    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        return respond(dispatcher, tracker, self.services)
