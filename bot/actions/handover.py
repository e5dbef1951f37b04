"""Handing a conversation to a human counsellor.

The ticket is written (or spooled) before any reply is prepared; the person is
always told what happens next, and a person in distress always gets the
emergency numbers, even if the ticket could not be written anywhere.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import conversation
from bot.actions.services import Services
from orientbot.gate import Candidate
from orientbot.tickets import NewTicket

logger = logging.getLogger(__name__)

URGENT_KINDS = ("suicide", "harcelement", "cyberharcelement", "enfance-en-danger")


def candidate_payload(services: Services, candidates: Sequence[Candidate]) -> List[Dict[str, Any]]:
    payload = []
    for candidate in candidates:
        entry = services.knowledge.get(candidate.kb_id)
        payload.append(
            {
                "kb_id": candidate.kb_id,
                "title": entry.title if entry else "",
                "selector_confidence": round(candidate.selector_confidence, 4),
                "retrieval_score": round(candidate.retrieval_score, 4),
            }
        )
    return payload


def hand_over(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    services: Services,
    *,
    reason: str,
    candidates: Sequence[Candidate] = (),
    distress_kind: Optional[str] = None,
) -> List[Dict[str, Any]]:
    priority = "urgent" if reason == "distress" else "normal"
    ticket = NewTicket(
        sender_id=tracker.sender_id,
        priority=priority,
        reason=reason,
        audience=conversation.audience(tracker),
        question=conversation.original_text(tracker),
        transcript=conversation.transcript(tracker),
        candidates=candidate_payload(services, candidates),
    )
    stored = False
    try:
        stored = services.tickets.open_ticket(ticket).stored
    except Exception:  # the reply must go out whatever happened to the ticket
        logger.exception("ticket %s could not be written nor spooled", ticket.id)
    if priority == "urgent":
        kind = distress_kind if distress_kind in URGENT_KINDS else "general"
        dispatcher.utter_message(response=f"utter_urgent_{kind}")
    else:
        dispatcher.utter_message(response=f"utter_handoff_{reason}")
    if not stored:
        dispatcher.utter_message(response="utter_handoff_spooled")
    dispatcher.utter_message(
        json_message={"handoff": {"ticket_id": ticket.id, "priority": priority, "reason": reason, "queued": not stored}}
    )
    return [SlotSet("clarification_pending", False)]
