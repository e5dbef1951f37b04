"""Handing a conversation to a human counsellor.

The ticket is written (or spooled) before any reply is prepared; the person is
always told what happens next, and a person in distress always gets the
emergency numbers, even if the ticket could not be written anywhere.  In the
evening (a deferred ticket) the person also gets a retrieval code and the page
where it shows the answer (``orientbot.pickup``), and an urgent ticket alerts
the on-call address: both are drawn before the ticket is written and travel
with it, so a ticket spooled while the database is down keeps them.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import conversation
from bot.actions.services import Services
from orientbot import emergency, schools
from orientbot.office_hours import say_when
from orientbot.pickup import Promise
from orientbot.retrieval import Scored
from orientbot.tickets import NewTicket, TicketReceipt
from orientbot.topics import topic_of

logger = logging.getLogger(__name__)

# Where the chat channel serves the retrieval page (bot/channels/chat.py): the window links to it on its own bot.
PICKUP_PATH = "/webhooks/chat/reponse"
URGENT_KINDS = ("suicide", "harcelement", "cyberharcelement", "enfance-en-danger")


def candidate_payload(services: Services, tracker: Tracker, candidates: Sequence[Scored]) -> List[Dict[str, Any]]:
    """What the counsellor sees of the bot's candidates: the retriever's score and the NLU model's confidence."""
    selector = {m.kb_id: m.score for m in conversation.selector_ranking(tracker)}
    payload = []
    for candidate in candidates:
        entry = services.knowledge.get(candidate.kb_id)
        payload.append(
            {
                "kb_id": candidate.kb_id,
                "title": entry.title if entry else "",
                "selector_confidence": round(selector.get(candidate.kb_id, 0.0), 4),
                "retrieval_score": round(candidate.score, 4),
            }
        )
    return payload


def hand_over(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    services: Services,
    *,
    reason: str,
    candidates: Sequence[Scored] = (),
    distress_kind: Optional[str] = None,
) -> List[Dict[str, Any]]:
    priority = "urgent" if reason == "distress" else "normal"
    now, hours = services.now(), services.office_hours()
    live = hours.is_open(now)
    mode = "live" if live else "deferred"
    # Only the chat window's signed sender ids carry a school: a REST caller chooses its sender freely.
    school = schools.school_of_conversation(tracker.sender_id, tracker.get_latest_input_channel())
    # The tickets of other schools are not in this one's queue (``schools.same_queue``).
    ahead = services.waiting_tickets(school=school) if live else 0
    due = hours.due_at(now, priority=priority, live=live, waiting_ahead=ahead)
    question = conversation.original_text(tracker)
    lines = conversation.transcript(tracker)
    promise = _promise(services, mode=mode, priority=priority, now=now)
    ticket = NewTicket(
        sender_id=tracker.sender_id,
        priority=priority,
        reason=reason,
        audience=conversation.audience(tracker),
        question=question,
        transcript=lines,
        candidates=candidate_payload(services, tracker, candidates),
        created_at=now.isoformat(),
        mode=mode,
        due_at=due.isoformat(),
        topic=topic_of(question) or topic_of(" ".join(line["text"] for line in lines if line["from"] == "user")),
        school=school,
        pickup_hash=promise.digest if promise else None,
        pickup_expires_at=promise.expires_at.isoformat() if promise else None,
        alert_on_call=promise.alert_on_call if promise else False,
    )
    receipt, written = TicketReceipt(ticket.id, stored=False), False
    try:
        receipt, written = services.tickets.open_ticket(ticket), True
    except Exception:  # the reply must go out whatever happened to the ticket
        logger.exception("ticket %s could not be written nor spooled", ticket.id)
    stored = receipt.stored
    # In the database or in the spool, the ticket holds the code's hash: the code will read it. Written
    # nowhere, the code would read nothing: it is not given.
    code = promise.code if promise is not None and written else None
    if priority == "urgent":
        kind = distress_kind if distress_kind in URGENT_KINDS else "general"
        dispatcher.utter_message(response=f"utter_urgent_{kind}", other_numbers=emergency.others_for(kind))
    else:
        dispatcher.utter_message(response=f"utter_handoff_{reason}")
    when = say_when(due, hours, now=now)
    if priority == "urgent":
        dispatcher.utter_message(response="utter_handoff_urgent_live" if live else "utter_handoff_urgent_deferred", when=when)
    else:
        dispatcher.utter_message(response="utter_handoff_live" if live else "utter_handoff_deferred", when=when)
    if not stored:
        dispatcher.utter_message(response="utter_handoff_spooled")
    handoff: Dict[str, Any] = {
        "ticket_id": receipt.ticket_id, "priority": priority, "reason": reason, "queued": not stored,
        "mode": ticket.mode, "due_at": ticket.due_at,
    }
    if code is not None:
        page = services.pickup.settings.page_for(school)
        dispatcher.utter_message(response="utter_pickup_code", code=code, url=page,
                                 days=services.pickup.settings.expiry_days)
        handoff.update(pickup_code=code, pickup_path=PICKUP_PATH)
    dispatcher.utter_message(json_message={"handoff": handoff})
    return [SlotSet("clarification_pending", False)]


def _promise(services: Services, *, mode: str, priority: str, now) -> Optional[Promise]:
    """The retrieval code (and on-call alert) of a deferred ticket, drawn before it is written; None if none."""
    if services.pickup is None:
        return None
    try:
        return services.pickup.promise(mode=mode, priority=priority, now=now)
    except Exception:  # the person is told when the answer comes, code or not
        logger.exception("no retrieval code for this handoff")
        return None
