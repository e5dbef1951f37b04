"""The conversation as the chat window shows it, and the feedback given on answers.

Owns ``chat_messages`` and ``feedback``: every message the person sends is
written before anything else happens to it (so nothing is lost if the bot is
down), with the client's own id so that a message sent twice (a retry after a
lost connection) is kept once.  Erasing a conversation (the person's "Effacer la
conversation", or the end of its retention, ``orientbot.retention``) deletes its
messages, feedback and retrieval codes, redacts its tickets (``orientbot.tickets.redact``) and
deletes Rasa's tracker events for it (``delete_tracker_events``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import delete, select
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from orientbot import pickup
from orientbot.db import ChatMessage, ErasedConversation, Feedback, Ticket, as_utc
from orientbot.tickets import redact

AUTHORS = ("user", "bot", "counsellor", "system")
# The longest message a person or a counsellor may send: the chat channel and the console both refuse longer ones.
MAX_MESSAGE_CHARS = 5000


def append(session: Session, *, sender_id: str, author: str, text: str, now: datetime,
           payload: Optional[Dict[str, Any]] = None, client_id: Optional[str] = None,
           ticket_id: Optional[str] = None) -> ChatMessage:
    """Write one message; a second call with the same ``client_id`` returns the first message."""
    if author not in AUTHORS:
        raise ValueError(f"unknown author {author!r}")
    if client_id:
        existing = find_by_client_id(session, sender_id=sender_id, client_id=client_id)
        if existing is not None:
            return existing
    message = ChatMessage(sender_id=sender_id, author=author, text=text, payload=payload or {},
                          client_id=client_id or None, ticket_id=ticket_id, created_at=now)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # the same client id written at the same moment by another request
        return find_by_client_id(session, sender_id=sender_id, client_id=client_id)
    return message


def find_by_client_id(session: Session, *, sender_id: str, client_id: str) -> Optional[ChatMessage]:
    return session.execute(
        select(ChatMessage).where(ChatMessage.sender_id == sender_id, ChatMessage.client_id == client_id)
    ).scalars().first()


def replies_to(session: Session, *, sender_id: str, message: ChatMessage) -> List[ChatMessage]:
    """What was said after ``message`` (the bot's replies to a retried message)."""
    return list(session.execute(
        select(ChatMessage).where(ChatMessage.sender_id == sender_id, ChatMessage.id > message.id,
                                  ChatMessage.erased.is_(False)).order_by(ChatMessage.id)
    ).scalars())


def history(session: Session, *, sender_id: str, after_id: int = 0, limit: int = 500) -> List[ChatMessage]:
    return list(session.execute(
        select(ChatMessage)
        .where(ChatMessage.sender_id == sender_id, ChatMessage.id > after_id, ChatMessage.erased.is_(False))
        .order_by(ChatMessage.id).limit(limit)
    ).scalars())


def for_ticket(session: Session, *, ticket_id: str, sender_id: str, since: Optional[datetime] = None) -> List[ChatMessage]:
    """The messages a counsellor reads on a ticket page: the whole conversation since the handoff, erased or not."""
    query = select(ChatMessage).where(ChatMessage.sender_id == sender_id)
    if since is not None:
        query = query.where((ChatMessage.created_at >= since) | (ChatMessage.ticket_id == ticket_id))
    return list(session.execute(query.order_by(ChatMessage.id)).scalars())


@dataclass(frozen=True)
class Erased:
    messages: int
    feedback: int
    tickets: int


def erase(session: Session, *, sender_id: str, now: Optional[datetime] = None) -> Erased:
    """Delete the conversation's messages and feedback, and redact its tickets (their words, not their facts).

    Rasa's own copy of the conversation is in its tracker store: ``delete_tracker_events``.
    """
    feedback = session.execute(
        delete(Feedback).where(Feedback.sender_id == sender_id).execution_options(synchronize_session=False)
    ).rowcount
    messages = session.execute(
        delete(ChatMessage).where(ChatMessage.sender_id == sender_id).execution_options(synchronize_session=False)
    ).rowcount
    tickets = list(session.execute(select(Ticket).where(Ticket.sender_id == sender_id)).scalars())
    for ticket in tickets:
        redact(ticket, now=now)
    # A ticket still in an action server's spool arrives after this: it will find the conversation erased.
    key = ErasedConversation.key_of(sender_id)
    if session.get(ErasedConversation, key) is None:
        session.add(ErasedConversation(sender_hash=key, erased_at=now or datetime.now(timezone.utc)))
    # A retrieval code would still show the counsellor's answer (orientbot.pickup): it goes with the words.
    pickup.erase_for_tickets(session, [ticket.id for ticket in tickets])
    return Erased(int(messages or 0), int(feedback or 0), len(tickets))


# Rasa's SQLTrackerStore keeps every event of a conversation in this table (rasa/core/tracker_store.py, SQLEvent).
TRACKER_EVENTS_TABLE = "events"


def delete_tracker_events(engine: Engine, sender_ids: Iterable[str]) -> int:
    """Delete the Rasa tracker store's events of these conversations; returns how many rows went."""
    sender_ids = list(sender_ids)
    if not sender_ids:
        return 0
    with engine.begin() as connection:
        if not engine.dialect.has_table(connection, TRACKER_EVENTS_TABLE):
            return 0
        deleted = 0
        for sender_id in sender_ids:
            # The table name is this module's constant; the sender is a bound parameter.
            result = connection.execute(sql_text(f"DELETE FROM {TRACKER_EVENTS_TABLE} WHERE sender_id = :sender"),  # nosec B608
                                        {"sender": sender_id})
            deleted += int(result.rowcount or 0)
        return deleted


def to_json(message: ChatMessage) -> Dict[str, Any]:
    return {
        "id": message.id,
        "author": message.author,
        "text": message.text,
        "payload": message.payload or {},
        "at": as_utc(message.created_at).isoformat() if message.created_at else None,
    }


def give_feedback(session: Session, *, sender_id: str, message_id: int, value: int, now: datetime) -> Feedback:
    """👍 (+1) or 👎 (-1) on one bot answer of this conversation; a new vote replaces the old one."""
    if value not in (1, -1):
        raise ValueError("value must be 1 or -1")
    message = session.get(ChatMessage, message_id)
    if message is None or message.sender_id != sender_id or message.author != "bot":
        raise LookupError("no such answer in this conversation")
    kb_id = ((message.payload or {}).get("answer") or {}).get("kb_id")
    existing = session.execute(
        select(Feedback).where(Feedback.sender_id == sender_id, Feedback.message_id == message_id)
    ).scalars().first()
    if existing is not None:
        existing.value, existing.created_at = value, now
        return existing
    feedback = Feedback(sender_id=sender_id, message_id=message_id, kb_id=kb_id, value=value, created_at=now)
    session.add(feedback)
    return feedback
