"""Answering from the knowledge base, through the answer gate.

The gate (``orientbot.gate``) decides between an answer, "did you mean…?"
buttons, "not my field", or "not understood"; a second unsure turn in a row
hands the conversation to a counsellor.  Prose comes from the domain's
responses and from the KB, never from this module.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import conversation
from bot.actions.answers import about_orientation, emit_answer, gate_decision
from bot.actions.handover import general_rule_then_hand_over, hand_over
from bot.actions.services import Services, ServiceAction
from orientbot.gate import (
    ANSWER, CLARIFY, OUT_OF_SCOPE, Decision, asks_for_a_human, looks_like_homework, sounds_like_a_complaint,
    tells_a_personal_situation,
)
from orientbot.normalise import normalise
from orientbot.safety import detect_distress


def respond(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services, decision: Optional[Decision] = None
) -> List[Dict[str, Any]]:
    """Answer, clarify, decline or (second unsure turn) hand over: what any question gets.

    ``decision`` is the gate's, when the caller already asked it for this message.
    """
    if conversation.intent(tracker).get("name") == "choose_kb":
        chosen = conversation.entity_value(tracker, "kb_id")
        if emit_answer(dispatcher, tracker, services, chosen, 1.0):
            return [SlotSet("clarification_pending", False)]
        dispatcher.utter_message(response="utter_not_understood")
        return []
    text = conversation.original_text(tracker)
    if not normalise(text):
        dispatcher.utter_message(response="utter_empty_message")
        return []

    distress = detect_distress(text)
    if distress is not None:  # whatever the classifiers said
        return hand_over(dispatcher, tracker, services, reason="distress", distress_kind=distress.kind)
    decision = decision or gate_decision(tracker, services)
    if asks_for_a_human(text):  # whatever the classifier said
        return hand_over(dispatcher, tracker, services, reason="asked_for_human", candidates=decision.candidates)
    complaint = tells_a_personal_situation(text) and sounds_like_a_complaint(text)
    if complaint and about_orientation(decision, services, text):
        # "c'est normal ?" about one's own stage, file or contract: the general rule if known, and a counsellor.
        return general_rule_then_hand_over(dispatcher, tracker, services, decision=decision, reason="personal_case")
    if decision.kind == OUT_OF_SCOPE or looks_like_homework(text):
        dispatcher.utter_message(response="utter_out_of_scope")
        return [SlotSet("clarification_pending", False)]
    if decision.kind == ANSWER and emit_answer(dispatcher, tracker, services, decision.kb_id, decision.confidence):
        return [SlotSet("clarification_pending", False)]
    if tracker.get_slot("clarification_pending"):
        return hand_over(dispatcher, tracker, services, reason="not_understood", candidates=decision.candidates)
    if decision.kind == CLARIFY:
        buttons = []
        for candidate in decision.candidates:
            entry = services.knowledge.get(candidate.kb_id)
            if entry is not None:
                buttons.append({"title": entry.title, "payload": f'/choose_kb{{"kb_id": "{entry.id}"}}'})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        dispatcher.utter_message(response="utter_clarify_other")
        return [SlotSet("clarification_pending", True)]
    if tells_a_personal_situation(text) and about_orientation(decision, services, text):
        # Someone who told their own story and matched nothing gets a counsellor, not "please rephrase".
        return hand_over(dispatcher, tracker, services, reason="personal_case", candidates=decision.candidates)
    dispatcher.utter_message(response="utter_not_understood")
    return []


class ActionAnswer(ServiceAction):
    def name(self) -> str:
        return "action_answer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        return respond(dispatcher, tracker, self.services)
