"""The handoff action: distress, a request for a human, a personal case, "none of these"."""
from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import conversation
from bot.actions.answers import about_orientation, gate_decision
from bot.actions.faq import respond
from bot.actions.handover import general_rule_then_hand_over, hand_over
from bot.actions.services import ServiceAction
from orientbot.gate import looks_like_homework
from orientbot.safety import detect_distress

REASON_BY_INTENT = {
    "ask_human": "asked_for_human",
    "personal_case": "personal_case",
    "none_of_these": "none_of_the_suggestions",
    "distress": "distress",
}


class ActionHandoff(ServiceAction):
    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        services = self.services
        intent = conversation.intent(tracker)
        name, confidence = intent.get("name") or "", float(intent.get("confidence") or 0.0)
        text = conversation.original_text(tracker)
        distress = detect_distress(text)
        decision = gate_decision(tracker, services)
        if distress is not None:
            reason = "distress"
        else:
            reason = REASON_BY_INTENT.get(name, "asked_for_human")
            gate = services.gate
            weak = (reason == "distress" and confidence < gate.distress_intent_confidence) or (
                reason == "personal_case"
                and (confidence < gate.personal_case_confidence or looks_like_homework(text)
                     or not about_orientation(decision, services, text))
            )
            if weak:
                # The classifier alone is not sure enough: answer, clarify or decline like any question.
                return respond(dispatcher, tracker, services, decision)
        if reason == "personal_case":
            return general_rule_then_hand_over(dispatcher, tracker, services, decision=decision, reason=reason)
        return hand_over(
            dispatcher,
            tracker,
            services,
            reason=reason,
            candidates=decision.candidates,
            distress_kind=(distress.kind if distress else conversation.entity_value(tracker, "distress_kind")) or None,
        )
