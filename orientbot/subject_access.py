"""A person's request about their data (RGPD articles 15 and 17): find, export or erase everything about them.

Owns the admin's side of a request made to the school's data protection officer: the conversations
that match what the person gives (the conversation id shown in their chat window, the e-mail address
they left, or words they remember writing), everything stored about one conversation as one JSON
document (chat log, tickets, feedback, deliveries), and its erasure (``orientbot.chatlog.erase``, and
Rasa's tracker events).  Used by the console (``console/admin.py``) and by the command line:

    python -m orientbot.subject_access find --email parent@example.org
    python -m orientbot.subject_access export <conversation id>  > personne.json
    python -m orientbot.subject_access erase <conversation id>

Nothing here writes what it finds to a log.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orientbot import chatlog
from orientbot.db import ChatMessage, Delivery, Feedback, Ticket, TicketEvent, as_utc

# Fewer characters than this match too much to point at one person.
MIN_SEARCH_CHARS = 4
MAX_RESULTS = 50


class RequestError(ValueError):
    """A search or a request that cannot be carried out; the message is French and can be shown as is."""


@dataclass(frozen=True)
class Found:
    """One conversation that matches, and enough to tell it apart from the others (no message text)."""

    sender_id: str
    first_at: Optional[str]
    last_at: Optional[str]
    messages: int
    tickets: int


def _iso(moment: Optional[datetime]) -> Optional[str]:
    return as_utc(moment).isoformat() if moment else None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find(session: Session, *, sender_id: str = "", email: str = "", text: str = "") -> List[Found]:
    """The conversations matching any of the criteria given, most recent first."""
    sender_id, email, text = sender_id.strip(), email.strip().lower(), text.strip()
    if not (sender_id or email or text):
        raise RequestError("indiquez un identifiant de conversation, une adresse e-mail ou des mots écrits par la personne")
    if text and len(text) < MIN_SEARCH_CHARS:
        raise RequestError(f"cherchez au moins {MIN_SEARCH_CHARS} caractères, sans quoi trop de conversations répondent")
    senders = set()
    if sender_id:
        senders.update(session.execute(select(ChatMessage.sender_id).where(ChatMessage.sender_id == sender_id)).scalars())
        senders.update(session.execute(select(Ticket.sender_id).where(Ticket.sender_id == sender_id)).scalars())
    if email:
        senders.update(session.execute(select(Ticket.sender_id).where(func.lower(Ticket.contact_email) == email)).scalars())
    if text:
        pattern = _like(text)
        senders.update(session.execute(
            select(ChatMessage.sender_id).where(ChatMessage.author == "user", ChatMessage.text.ilike(pattern, escape="\\"))
        ).scalars())
        senders.update(session.execute(select(Ticket.sender_id).where(
            or_(Ticket.question.ilike(pattern, escape="\\"), Ticket.summary.ilike(pattern, escape="\\")))).scalars())
    found = [_describe(session, sender) for sender in senders]
    return sorted(found, key=lambda item: item.last_at or "", reverse=True)[:MAX_RESULTS]


def _describe(session: Session, sender_id: str) -> Found:
    first, last, count = session.execute(
        select(func.min(ChatMessage.created_at), func.max(ChatMessage.created_at), func.count(ChatMessage.id))
        .where(ChatMessage.sender_id == sender_id)).one()
    tickets = session.execute(select(func.count(Ticket.id)).where(Ticket.sender_id == sender_id)).scalar_one()
    return Found(sender_id, _iso(first), _iso(last), int(count or 0), int(tickets or 0))


def export(session: Session, *, sender_id: str, now: datetime) -> Dict[str, Any]:
    """Everything stored about one conversation, as the person has the right to receive it."""
    messages = list(session.execute(
        select(ChatMessage).where(ChatMessage.sender_id == sender_id).order_by(ChatMessage.id)).scalars())
    tickets = list(session.execute(select(Ticket).where(Ticket.sender_id == sender_id).order_by(Ticket.created_at)).scalars())
    if not messages and not tickets:
        raise RequestError("aucune donnée pour cette conversation (identifiant inconnu, ou déjà effacée)")
    ticket_ids = [ticket.id for ticket in tickets]
    events = list(session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids)).order_by(TicketEvent.id)).scalars()) if ticket_ids else []
    deliveries = list(session.execute(
        select(Delivery).where(Delivery.ticket_id.in_(ticket_ids)).order_by(Delivery.id)).scalars()) if ticket_ids else []
    feedback = list(session.execute(select(Feedback).where(Feedback.sender_id == sender_id).order_by(Feedback.id)).scalars())
    return {
        "conversation": sender_id,
        "exported_at": _iso(now),
        "messages": [{**chatlog.to_json(message), "erased_by_person": bool(message.erased)} for message in messages],
        "tickets": [{
            "id": ticket.id, "created_at": _iso(ticket.created_at), "priority": ticket.priority, "reason": ticket.reason,
            "status": ticket.status, "audience": ticket.audience, "question": ticket.question, "summary": ticket.summary,
            "transcript": ticket.transcript, "topic": ticket.topic, "due_at": _iso(ticket.due_at),
            "answered_at": _iso(ticket.answered_at), "closed_at": _iso(ticket.closed_at),
            "contact_channel": ticket.contact_channel, "contact_email": ticket.contact_email,
        } for ticket in tickets],
        "ticket_history": [{"ticket_id": e.ticket_id, "kind": e.kind, "at": _iso(e.at)} for e in events],
        "deliveries": [{"ticket_id": d.ticket_id, "channel": d.channel, "status": d.status, "sent_at": _iso(d.sent_at)}
                       for d in deliveries],
        "feedback": [{"message_id": f.message_id, "value": f.value, "at": _iso(f.created_at)} for f in feedback],
    }


def erase(session: Session, *, sender_id: str, now: datetime, tracker_engine: Optional[Engine] = None) -> Dict[str, int]:
    """Erase one conversation as the person's own "Effacer" does, and Rasa's copy of it."""
    erased = chatlog.erase(session, sender_id=sender_id, now=now)
    tracker_events = chatlog.delete_tracker_events(tracker_engine, [sender_id]) if tracker_engine is not None else 0
    return {**asdict(erased), "tracker_events": tracker_events}


def main(argv: Optional[Sequence[str]] = None) -> int:
    from orientbot.db import create_schema, make_engine, session_scope
    from orientbot.retention import tracker_database_url
    from orientbot.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m orientbot.subject_access",
                                     description="Retrouver, exporter ou effacer les données d'une personne.")
    commands = parser.add_subparsers(dest="command", required=True)
    finding = commands.add_parser("find", help="les conversations qui correspondent")
    finding.add_argument("--conversation", default="")
    finding.add_argument("--email", default="")
    finding.add_argument("--text", default="")
    for name in ("export", "erase"):
        commands.add_parser(name).add_argument("conversation")
    args = parser.parse_args(argv)
    settings = load_settings()
    engine = make_engine(settings.database_url)
    create_schema(engine)
    now = datetime.now(timezone.utc)
    try:
        with session_scope(engine) as session:
            if args.command == "find":
                result: Any = [asdict(item) for item in find(session, sender_id=args.conversation, email=args.email,
                                                              text=args.text)]
            elif args.command == "export":
                result = export(session, sender_id=args.conversation, now=now)
            else:
                url = tracker_database_url(settings, os.environ)
                tracker = make_engine(url) if url else None
                try:
                    result = erase(session, sender_id=args.conversation, now=now, tracker_engine=tracker)
                finally:
                    if tracker is not None:
                        tracker.dispose()
    except RequestError as error:
        print(f"{error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
