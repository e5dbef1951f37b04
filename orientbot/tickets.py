"""Handoff tickets: written before the reply, never dropped.

Owns how a handoff becomes a durable ticket.  ``TicketStore.open_ticket``
writes through SQLAlchemy; when the database cannot be reached the ticket is
appended (and fsync'ed) to a local spool file, and every later call first tries
to flush the spool into the database.  The caller learns whether the ticket is
in the database or only spooled, and tells the person accordingly.

A request resent moments after it was handed over (a lost reply, the chat window's outbox retrying) joins
the ticket it opened, wherever that ticket waits: an open ticket in the database, or a ticket in the spool
while the database is down.  The join keeps what the resend brings (the more urgent priority and nearer due
time, the newer transcript, its retrieval code, the on-call alert it owes) and opens no second ticket, in the
database as in the spool and when the spool is imported.  The spool stays append-only: a resend joining a
spooled ticket is a line naming that ticket, applied to it on import.  The processes that share the spool
append and import it under an exclusive lock (``fcntl.flock`` on a lock file beside it), so a line appended
while another process imports is neither lost with the imported file nor read half-written.

A ticket carries what its handoff promised (``orientbot.pickup.Promise``): the hash of the retrieval code
the person was given and whether the on-call address is to be alerted.  They are written in the ticket's
own transaction, whether at once or when the spool is imported, so a spooled ticket's code works and its
alert leaves as soon as the database is back.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from orientbot import pickup, schools
from orientbot.db import Delivery, ErasedConversation, Ticket, as_utc, session_scope
from orientbot.delivery import queue_on_call
from orientbot.workflow import OPEN_STATUSES

logger = logging.getLogger(__name__)

PRIORITIES = ("urgent", "normal")
REASONS = ("distress", "asked_for_human", "personal_case", "not_understood", "none_of_the_suggestions", "out_of_date")
MODES = ("live", "deferred")
REASON_LABELS = {
    "distress": "détresse ou danger",
    "asked_for_human": "demande à parler à un conseiller",
    "personal_case": "situation personnelle",
    "not_understood": "question non comprise par le bot",
    "none_of_the_suggestions": "aucune suggestion du bot ne convenait",
    "out_of_date": "la réponse de la base porte sur une campagne passée",
}
AUDIENCE_LABELS = {"eleve": "Un élève", "parent": "Un parent"}
SUMMARY_QUOTE_CHARS = 280
# The key of a spool line that joins a resent request to the ticket spooled before it (``TicketStore``).
SPOOL_JOINS = "joins"


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_QUOTE_CHARS else text[: SUMMARY_QUOTE_CHARS - 1] + "…"


def summarise(ticket: "NewTicket") -> str:
    """One paragraph a counsellor reads first: who, why, about what, in the person's words."""
    said = [line["text"] for line in ticket.transcript if line.get("from") == "user" and line.get("text")]
    earlier = [text for text in said if text != ticket.question][-2:]
    parts = [f"{AUDIENCE_LABELS.get(ticket.audience, 'Une personne')} ({REASON_LABELS[ticket.reason]})"]
    if ticket.topic:
        parts[0] += f", thème « {ticket.topic} »"
    parts.append(f"écrit : « {_quote(ticket.question)} »" if ticket.question else "n'a rien écrit")
    if earlier:
        parts.append("avant cela : " + " / ".join(f"« {_quote(text)} »" for text in earlier))
    if ticket.candidates:
        best = ticket.candidates[0]
        if best.get("title"):
            parts.append(f"réponse la plus proche trouvée par le bot : « {best['title']} »")
    return " ; ".join(parts) + "."


@dataclass
class NewTicket:
    sender_id: str
    priority: str
    reason: str
    audience: str
    question: str
    transcript: List[Dict[str, Any]] = field(default_factory=list)
    candidates: List[Dict[str, Any]] = field(default_factory=list)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat())
    mode: str = "live"
    due_at: Optional[str] = None
    topic: Optional[str] = None
    summary: str = ""
    # The school of the conversation (``orientbot.schools.school_of_conversation``): set by the caller, who
    # knows the channel; None for a conversation of no school.
    school: Optional[str] = None
    # What the handoff promised (``orientbot.pickup.PickupDesk.promise``), written with the ticket: the hash of
    # the retrieval code given to the person and its expiry, and whether on-call is to be alerted.
    pickup_hash: Optional[str] = None
    pickup_expires_at: Optional[str] = None
    alert_on_call: bool = False

    def __post_init__(self) -> None:
        self.school = schools.normalise_uai(self.school)
        if self.priority not in PRIORITIES:
            raise ValueError(f"unknown priority {self.priority!r}")
        if self.reason not in REASONS:
            raise ValueError(f"unknown reason {self.reason!r}")
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}")
        if not self.summary:
            self.summary = summarise(self)


@dataclass(frozen=True)
class TicketReceipt:
    ticket_id: str
    stored: bool  # False: only spooled on disk, the database was unreachable
    # False: the same request was already an open ticket (a message resent after a lost reply), joined to it.
    new: bool = True


class TicketSink(Protocol):
    def open_ticket(self, ticket: NewTicket) -> TicketReceipt: ...


class TicketStore:
    """Writes tickets to the database, or to the spool when the database is down."""

    def __init__(self, engine: Engine, spool_path: Path, *, resend_window: timedelta = timedelta(minutes=10)) -> None:
        self._engine = engine
        self._spool_path = Path(spool_path)
        self._lock_path = self._spool_path.with_name(self._spool_path.name + ".lock")
        self._lock = threading.Lock()
        self._resend_window = resend_window

    def open_ticket(self, ticket: NewTicket) -> TicketReceipt:
        with self._lock:
            self._flush_spool()
            try:
                with session_scope(self._engine) as session:
                    joined = self._land(session, ticket, spooled=False)
                return TicketReceipt(joined or ticket.id, stored=True, new=joined is None)
            except SQLAlchemyError:
                logger.exception("ticket %s could not be written; spooled for retry", ticket.id)
                joined = self._append_to_spool(ticket)
                return TicketReceipt(joined or ticket.id, stored=False, new=joined is None)

    def flush(self) -> int:
        """Move spooled handoffs into the database; returns how many were moved."""
        with self._lock:
            return self._flush_spool()

    def import_regularly(self, every_seconds: float, *, stop: Optional[threading.Event] = None) -> threading.Thread:
        """Try to import the spool every ``every_seconds``, in a daemon thread, until ``stop`` is set.

        The next handoff also imports it, but at night there may be none before the morning: an urgent
        ticket's on-call alert has to leave as soon as the database is back.
        """
        stop = stop or threading.Event()

        def run() -> None:
            while not stop.wait(every_seconds):
                try:
                    moved = self.flush()
                except Exception:  # the next round, or the next handoff, tries again
                    logger.exception("the ticket spool could not be imported")
                    continue
                if moved:
                    logger.info("%d spooled handoff(s) imported", moved)

        thread = threading.Thread(target=run, name="ticket-spool-import", daemon=True)
        thread.start()
        return thread

    def _resends(self, ticket: NewTicket, spooled: Dict[str, Any]) -> bool:
        """Whether ``ticket`` resends a ticket waiting in the spool: the rule of ``_same_open_request``."""
        since = as_utc(datetime.fromisoformat(ticket.created_at)) - self._resend_window
        return (SPOOL_JOINS not in spooled
                and (spooled["sender_id"], spooled["question"], spooled["reason"]) == (ticket.sender_id, ticket.question, ticket.reason)
                and as_utc(datetime.fromisoformat(spooled["created_at"])) >= since)

    def _same_open_request(self, session: Session, ticket: NewTicket) -> Optional[Ticket]:
        """An open ticket of the same conversation, for the same words and reason, opened moments ago.

        A message resent because its reply was lost (a server killed mid-request, a dropped connection)
        runs the handoff again: the request joins the ticket it already opened instead of doubling it.
        """
        since = as_utc(datetime.fromisoformat(ticket.created_at)) - self._resend_window
        return session.execute(
            select(Ticket).where(Ticket.sender_id == ticket.sender_id, Ticket.question == ticket.question,
                                 Ticket.reason == ticket.reason, Ticket.status.in_(OPEN_STATUSES),
                                 Ticket.created_at >= since).order_by(Ticket.created_at).limit(1)
        ).scalars().first()

    def _land(self, session: Session, ticket: NewTicket, *, spooled: bool, joins: Optional[str] = None) -> Optional[str]:
        """Write ``ticket``, or join it to the ticket it resends; returns the joined ticket's id, None if new.

        ``joins`` is the ticket a spooled resend was joined to while the database was down.  Missing (it was
        itself a resend, joined on import to a ticket already in the database), the resend is matched anew.
        """
        earlier = session.get(Ticket, joins) if joins else None
        if earlier is None:
            if session.get(Ticket, ticket.id) is not None:
                return None  # already imported by an earlier attempt (its code and alert with it)
            earlier = self._same_open_request(session, ticket)
        if earlier is not None:
            self._join(session, earlier, ticket, spooled=spooled)
            return earlier.id
        self._insert(session, ticket, spooled=spooled)
        return None

    def _join(self, session: Session, earlier: Ticket, ticket: NewTicket, *, spooled: bool) -> None:
        """A resent request joined to the ticket it opened: nothing the resend brings is lost.

        The ticket takes the more urgent priority and the nearer due time, the transcript gains what the
        resend adds, the code just given reads that ticket too, and on-call is alerted once: when the ticket
        was written, or now if only the resend owes an alert.  Applying a join twice (an import retried after
        a crash) changes nothing more.
        """
        created = as_utc(datetime.fromisoformat(ticket.created_at))
        if PRIORITIES.index(ticket.priority) < PRIORITIES.index(earlier.priority):
            earlier.priority = ticket.priority
        if ticket.due_at:
            due = as_utc(datetime.fromisoformat(ticket.due_at))
            if earlier.due_at is None or due < as_utc(earlier.due_at):
                earlier.due_at = due
        if not (spooled and _erased(session, ticket.sender_id)):  # erased meanwhile: its facts count, not its words
            transcript = _merged_transcript(earlier.transcript or [], ticket.transcript)
            if transcript != earlier.transcript:
                earlier.transcript = transcript
                earlier.summary = summarise(replace(ticket, audience=earlier.audience, topic=earlier.topic,
                                                    candidates=earlier.candidates or [], transcript=transcript))
            if ticket.pickup_hash:
                self._write_code(session, ticket, earlier.id)
        if ticket.alert_on_call and session.execute(
                select(Delivery.id).where(Delivery.ticket_id == earlier.id, Delivery.channel == "on_call")).first() is None:
            queue_on_call(session, ticket_id=earlier.id, now=created)

    @staticmethod
    def _write_code(session, ticket: NewTicket, ticket_id: str) -> None:
        pickup.record(session, ticket_id=ticket_id, digest=ticket.pickup_hash,
                      created_at=as_utc(datetime.fromisoformat(ticket.created_at)),
                      expires_at=as_utc(datetime.fromisoformat(ticket.pickup_expires_at)))

    def _insert(self, session: Session, ticket: NewTicket, *, spooled: bool) -> None:
        values = asdict(ticket)
        for promised in ("pickup_hash", "pickup_expires_at", "alert_on_call"):
            del values[promised]
        # In UTC: SQLite keeps the wall-clock time and drops the offset.
        created = values["created_at"] = as_utc(datetime.fromisoformat(values["created_at"]))
        values["due_at"] = as_utc(datetime.fromisoformat(values["due_at"])) if values["due_at"] else None
        row = Ticket(**values, spooled=spooled)
        session.add(row)
        session.flush()  # the code and the alert refer to the ticket's row, the next resend finds it
        if spooled and _erased(session, ticket.sender_id):
            # Erased while the ticket waited in the spool: its facts count, its words and code do not.
            redact(row, now=created)
        elif ticket.pickup_hash:
            self._write_code(session, ticket, ticket.id)
        if ticket.alert_on_call:
            # Due at once: a spooled ticket's alert leaves as soon as the database is back.
            queue_on_call(session, ticket_id=ticket.id, now=created)

    @contextmanager
    def _spool_locked(self) -> Iterator[None]:
        """Exclusive use of the spool among the processes sharing it; released when the lock file closes.

        The lock is a file of its own: the spool itself is deleted once imported, and a lock held on a
        deleted file would not stop a process opening the new one.
        """
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a", encoding="utf-8") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield

    def _read_spool(self) -> List[Dict[str, Any]]:
        if not self._spool_path.exists():
            return []
        lines = []
        for line in self._spool_path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                lines.append(json.loads(line))
            except ValueError:
                # Only an append cut short by a crash leaves a broken line (appends are whole and fsync'ed under
                # the lock): its handoff was never confirmed to anyone, and it must not block the others.
                logger.error("a broken line of the ticket spool is skipped")
        return lines

    def _append_to_spool(self, ticket: NewTicket) -> Optional[str]:
        """Append ``ticket``, or a line joining it to the spooled ticket it resends; returns that one's id."""
        with self._spool_locked():
            joined = next((line["id"] for line in self._read_spool() if self._resends(ticket, line)), None)
            entry = asdict(ticket) if joined is None else {SPOOL_JOINS: joined, "ticket": asdict(ticket)}
            with open(self._spool_path, "a+b") as handle:
                # After a line cut short by a crash, a new line of its own: glued to it, it would be lost too.
                broken = handle.tell() > 0 and os.pread(handle.fileno(), 1, handle.tell() - 1) != b"\n"
                handle.write((("\n" if broken else "") + json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
        return joined

    def _flush_spool(self) -> int:
        if not self._spool_path.exists():
            return 0
        with self._spool_locked():
            lines = self._read_spool()
            if not lines:
                return 0
            try:
                with session_scope(self._engine) as session:
                    for line in lines:
                        if SPOOL_JOINS in line:
                            self._land(session, NewTicket(**line["ticket"]), spooled=True, joins=line[SPOOL_JOINS])
                        else:
                            self._land(session, NewTicket(**line), spooled=True)
            except SQLAlchemyError:
                return 0
            self._spool_path.unlink()
            return len(lines)


def _erased(session: Session, sender_id: str) -> bool:
    return session.get(ErasedConversation, ErasedConversation.key_of(sender_id)) is not None


def _merged_transcript(kept: List[Dict[str, Any]], resent: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``kept`` and what ``resent`` adds after the lines they share from the start (usually all of ``kept``)."""
    shared = 0
    while shared < min(len(kept), len(resent)) and kept[shared] == resent[shared]:
        shared += 1
    added = resent[shared:]
    if not added or kept[len(kept) - len(added):] == added:  # nothing new, or already added by this resend
        return kept
    return kept + added


ERASED_TEXT = "[effacé à la demande de la personne]"


def redact(ticket: Ticket, *, now: Optional[datetime] = None) -> None:
    """Remove what the person said from a ticket; keep its id, reason, priority, status, dates and topic.

    Used when the person erases the conversation and when the conversation's retention runs out: the
    counsellors' statistics (how many, why, how fast) survive, the words do not.
    """
    ticket.question = ERASED_TEXT
    ticket.transcript = [{"from": "system", "text": ERASED_TEXT}]
    ticket.summary = ERASED_TEXT
    ticket.candidates = []
    ticket.contact_email = None
    if ticket.contact_channel is not None:
        ticket.contact_channel = None
    ticket.contact_consent = False
    if now is not None:
        ticket.updated_at = now
