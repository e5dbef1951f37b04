"""How long conversations and tickets are kept: ``python -m orientbot.retention`` erases what is older.

Owns the retention rule of docs/privacy.md, as one pure function over two engines and a clock
(``purge``) and a thin command line around it (run it daily, from cron or a systemd timer):

* a conversation whose last message is older than ``privacy.conversation_days`` is erased as when the
  person erases it (``orientbot.chatlog.erase``: messages and feedback deleted, tickets redacted), unless
  one of its tickets is still open; Rasa's tracker events of conversations idle that long are deleted
  too (the REST channel's included);
* a ticket closed more than ``privacy.ticket_days`` ago is deleted with its history, its deliveries and its
  retrieval codes (its proposals to the knowledge base stay, anonymised, without the link to it);
* a retrieval code (``orientbot.pickup``) past its expiry is deleted.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Engine

from orientbot import chatlog, pickup
from orientbot.db import (
    ChatMessage,
    Delivery,
    ErasedConversation,
    Feedback,
    KBProposal,
    Ticket,
    TicketEvent,
    as_utc,
    session_scope,
)
from orientbot.settings import PROJECT_ROOT, Settings
from orientbot.tickets import ERASED_TEXT, redact
from orientbot.workflow import OPEN_STATUSES


@dataclass(frozen=True)
class PurgeReport:
    conversations: int = 0
    messages: int = 0
    feedback: int = 0
    tickets_redacted: int = 0
    tickets_deleted: int = 0
    pickup_codes: int = 0
    tracker_conversations: int = 0
    tracker_events: int = 0


def purge(engine: Engine, *, now: datetime, conversation_days: int, ticket_days: int,
          tracker_engine: Optional[Engine] = None) -> PurgeReport:
    """Erase what is older than the retention periods, as of ``now``; returns what was done."""
    conversation_cutoff = now - timedelta(days=conversation_days)
    ticket_cutoff = now - timedelta(days=ticket_days)
    counts = dict(conversations=0, messages=0, feedback=0, tickets_redacted=0, pickup_codes=0)
    with session_scope(engine) as session:
        last_message = (
            select(ChatMessage.sender_id).group_by(ChatMessage.sender_id)
            .having(func.max(ChatMessage.created_at) < conversation_cutoff)
        )
        # Feedback alone (its answer already gone) and tickets whose conversation has no message left.
        idle = set(session.execute(last_message).scalars())
        idle |= set(session.execute(
            select(Feedback.sender_id).group_by(Feedback.sender_id)
            .having(func.max(Feedback.created_at) < conversation_cutoff)).scalars())
        busy = set(session.execute(
            select(Ticket.sender_id).where(Ticket.status.in_(OPEN_STATUSES))).scalars())
        recent = set(session.execute(
            select(ChatMessage.sender_id).where(ChatMessage.created_at >= conversation_cutoff)).scalars())
        for sender_id in sorted(idle - busy - recent):
            erased = chatlog.erase(session, sender_id=sender_id, now=now)
            counts["conversations"] += 1
            counts["messages"] += erased.messages
            counts["feedback"] += erased.feedback
            counts["tickets_redacted"] += erased.tickets
        # Tickets closed long enough ago whose words are still there (their conversation had no chat log).
        for ticket in session.execute(select(Ticket).where(
                Ticket.status == "closed", Ticket.closed_at < conversation_cutoff,
                Ticket.question != ERASED_TEXT)).scalars():
            if ticket.sender_id not in recent:
                redact(ticket, now=now)
                counts["tickets_redacted"] += 1
        old_tickets = [ticket.id for ticket in session.execute(
            select(Ticket).where(Ticket.status == "closed", Ticket.closed_at < ticket_cutoff)).scalars()
            if as_utc(ticket.closed_at) < ticket_cutoff]
        if old_tickets:
            session.execute(update(ChatMessage).where(ChatMessage.ticket_id.in_(old_tickets)).values(ticket_id=None)
                            .execution_options(synchronize_session=False))
            session.execute(update(KBProposal).where(KBProposal.ticket_id.in_(old_tickets)).values(ticket_id=None)
                            .execution_options(synchronize_session=False))
            session.execute(delete(TicketEvent).where(TicketEvent.ticket_id.in_(old_tickets))
                            .execution_options(synchronize_session=False))
            session.execute(delete(Delivery).where(Delivery.ticket_id.in_(old_tickets))
                            .execution_options(synchronize_session=False))
            pickup.erase_for_tickets(session, old_tickets)
            session.execute(delete(Ticket).where(Ticket.id.in_(old_tickets)).execution_options(synchronize_session=False))
        counts["pickup_codes"] = pickup.purge_expired(session, now=now)
        # A spooled ticket waits minutes, not a retention period: older marks of erasure are not needed.
        session.execute(delete(ErasedConversation).where(ErasedConversation.erased_at < conversation_cutoff)
                        .execution_options(synchronize_session=False))
    tracker_conversations = tracker_events = 0
    if tracker_engine is not None:
        tracker_conversations, tracker_events = _purge_tracker(
            tracker_engine, cutoff=conversation_cutoff, keep=busy)
    return PurgeReport(tickets_deleted=len(old_tickets), tracker_conversations=tracker_conversations,
                       tracker_events=tracker_events, **counts)


def _purge_tracker(engine: Engine, *, cutoff: datetime, keep: set) -> tuple:
    table = chatlog.TRACKER_EVENTS_TABLE
    with engine.connect() as connection:
        if not engine.dialect.has_table(connection, table):
            return 0, 0
        idle = [row[0] for row in connection.execute(sql_text(
            # The table is Rasa's events table (a constant); the cutoff is a bound parameter.
            f"SELECT sender_id FROM {table} GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"),  # nosec B608
            {"cutoff": cutoff.timestamp()})]
    idle = [sender_id for sender_id in idle if sender_id not in keep]
    return len(idle), chatlog.delete_tracker_events(engine, idle)


def tracker_database_url(settings: Settings, environ: Mapping[str, str]) -> Optional[str]:
    """Rasa's tracker store: ``privacy.tracker_database_url``, else ``$TRACKER_DB`` (SQLite), else var/tracker.db."""
    if settings.privacy.tracker_database_url:
        return settings.privacy.tracker_database_url
    path = Path(environ.get("TRACKER_DB") or PROJECT_ROOT / "var" / "tracker.db")
    return f"sqlite:///{path}" if path.exists() else None


def main(argv: Optional[Sequence[str]] = None, *, environ: Optional[Mapping[str, str]] = None,
         clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> int:
    from orientbot.db import create_schema, make_engine
    from orientbot.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m orientbot.retention", description=(
        "Efface les conversations et les tickets plus anciens que les durées de conservation "
        "(privacy.conversation_days, privacy.ticket_days)."))
    parser.parse_args(argv)
    environ = os.environ if environ is None else environ
    settings = load_settings(environ)
    engine = make_engine(settings.database_url)
    create_schema(engine)
    url = tracker_database_url(settings, environ)
    tracker = make_engine(url) if url else None
    try:
        report = purge(engine, now=clock(), conversation_days=settings.privacy.conversation_days,
                       ticket_days=settings.privacy.ticket_days, tracker_engine=tracker)
    finally:
        engine.dispose()
        if tracker is not None:
            tracker.dispose()
    print(" ".join(f"{key}={value}" for key, value in asdict(report).items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
