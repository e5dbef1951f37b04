"""Carrying out the answer policy's outcome: the one thing both actions do.

``orientbot.policy`` decides (answer, clarify, decline, hand over); this module says it, with the
domain's responses and the KB's answers, never with prose of its own.
"""
from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import conversation
from bot.actions.answers import emit_answer, is_out_of_date_only
from bot.actions.handover import hand_over
from bot.actions.services import ServiceAction, Services
from orientbot.policy import ANSWER, CLARIFY, DECLINE, EMPTY, HAND_OVER, Outcome

NOT_PENDING = [SlotSet("clarification_pending", False)]


def respond(dispatcher: CollectingDispatcher, tracker: Tracker, services: Services) -> List[Dict[str, Any]]:
    """What any message that reaches an action gets: the policy's outcome, carried out."""
    outcome = services.policy.decide(conversation.message(tracker), services.knowledge, services.retriever)
    return carry_out(dispatcher, tracker, services, outcome)


def carry_out(dispatcher: CollectingDispatcher, tracker: Tracker, services: Services,
              outcome: Outcome) -> List[Dict[str, Any]]:
    if outcome.action == ANSWER:
        if emit_answer(dispatcher, tracker, services, outcome.kb_id, outcome.probability):
            return NOT_PENDING
        if is_out_of_date_only(services, outcome.kb_id):
            # Every sentence of the answer carried a past campaign's date: a counsellor gives this year's.
            dispatcher.utter_message(response="utter_answer_out_of_date")
            return hand_over(dispatcher, tracker, services, reason="out_of_date", candidates=outcome.candidates)
    if outcome.action == HAND_OVER:
        if outcome.general_rule_first:
            # A personal case the KB has a general answer for: it helps while the person waits.
            emit_answer(dispatcher, tracker, services, outcome.kb_id, outcome.probability,
                        lead_in="utter_general_info_first")
        return hand_over(dispatcher, tracker, services, reason=outcome.reason, candidates=outcome.candidates,
                         distress_kind=outcome.distress_kind)
    if outcome.action == EMPTY:
        dispatcher.utter_message(response="utter_empty_message")
        return []
    if outcome.action == DECLINE:
        dispatcher.utter_message(response="utter_out_of_scope")
        return NOT_PENDING
    if outcome.action == CLARIFY:
        audience = conversation.audience(tracker)
        buttons = []
        for candidate in outcome.candidates:
            entry = services.knowledge.get(candidate.kb_id)
            if entry is not None:
                buttons.append({"title": entry.title_for(audience), "payload": f'/choose_kb{{"kb_id": "{entry.id}"}}'})
        if buttons:
            dispatcher.utter_message(response="utter_clarify", buttons=buttons)
            dispatcher.utter_message(response="utter_clarify_other")
            return [SlotSet("clarification_pending", True)]
    dispatcher.utter_message(response="utter_not_understood")
    return []


class ActionAnswer(ServiceAction):
    def name(self) -> str:
        return "action_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        return respond(dispatcher, tracker, self.services)
