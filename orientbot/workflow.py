"""The life of a ticket once it is written: the queue, taking, replying, handing back.

Owns the rules counsellors work by: urgent tickets first, then by due time;
``new → taken → answered → closed``, ``reopened`` when the person writes again
after an answer; one owner at a time (taking is one conditional UPDATE, so two
counsellors can never both win); nothing is ever deleted, every step is a
``TicketEvent``.  While a *live* ticket is open the bot is paused for that
conversation and the person's messages go to the counsellor.  A reply to a person who chose to be
told by e-mail or the ENT also queues a ``Delivery`` (sent by ``orientbot.delivery``).

Repository functions: keyword-only arguments, a session passed in, the moment
``now`` passed in (tests choose it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from orientbot import schools
from orientbot.db import OPEN_STATUSES, QUEUE_RANK, AppSetting, ChatMessage, Delivery, Ticket, TicketEvent, as_utc
from orientbot.office_hours import OfficeHours

WAITING_STATUSES = ("new", "reopened")
OFFICE_HOURS_KEY = "office_hours"


class WorkflowError(Exception):
    """A step the rules forbid; the message is French and can be shown to the counsellor."""


class AlreadyTaken(WorkflowError):
    pass


def office_hours(session: Session) -> OfficeHours:
    """The hours an admin set in the console, or the defaults."""
    row = session.get(AppSetting, OFFICE_HOURS_KEY)
    return OfficeHours.from_json(row.value) if row is not None else OfficeHours()


def save_office_hours(session: Session, *, hours: OfficeHours) -> None:
    row = session.get(AppSetting, OFFICE_HOURS_KEY)
    if row is None:
        session.add(AppSetting(key=OFFICE_HOURS_KEY, value=hours.to_json()))
    else:
        row.value = hours.to_json()


def record(session: Session, *, ticket_id: str, kind: str, now: datetime, counsellor_id: Optional[int] = None,
           detail: Optional[Dict[str, Any]] = None) -> None:
    session.add(TicketEvent(ticket_id=ticket_id, kind=kind, counsellor_id=counsellor_id, detail=detail or {}, at=now))


def _queue_order():
    # The same expressions as the index ``ix_tickets_queue`` (orientbot.db): PostgreSQL walks it in this order and
    # stops after the page instead of sorting every open ticket; the id makes the order total, so that pages
    # neither repeat nor skip a ticket whose due and creation times equal another's.
    return (QUEUE_RANK, Ticket.due_at.asc().nulls_last(), Ticket.created_at, Ticket.id)


def _queue_filter(query, *, statuses: Sequence[str], reason: Optional[str], audience: Optional[str],
                  topic: Optional[str], school: Optional[str]):
    query = schools.visible_to(query.where(Ticket.status.in_(list(statuses))), school)
    if reason:
        query = query.where(Ticket.reason == reason)
    if audience:
        query = query.where(Ticket.audience == audience)
    if topic:
        query = query.where(Ticket.topic == topic)
    return query


def queue(
    session: Session,
    *,
    statuses: Sequence[str] = OPEN_STATUSES,
    reason: Optional[str] = None,
    audience: Optional[str] = None,
    topic: Optional[str] = None,
    school: Optional[str] = None,
    limit: int = 200,
    offset: int = 0,
) -> List[Ticket]:
    """Tickets in the order they should be worked: urgent first, then the nearest due time (none last), the oldest
    first; ``limit`` of them from the ``offset``-th.

    ``school``: the counsellor's school; the queue holds only the tickets it may see (``schools.visible_to``).
    """
    # The page's ids first, then their tickets: the rows skipped by the offset are read from the index only
    # (ix_tickets_queue), not fetched whole to be thrown away.
    page = (_queue_filter(select(Ticket.id), statuses=statuses, reason=reason, audience=audience, topic=topic,
                          school=school)
            .order_by(*_queue_order()).limit(limit).offset(offset).subquery())
    # The owners in one query, not one per row.
    query = (select(Ticket).join(page, Ticket.id == page.c.id).options(selectinload(Ticket.owner))
             .order_by(*_queue_order()))
    return list(session.execute(query).scalars())


@dataclass(frozen=True)
class QueueCounts:
    total: int
    urgent: int


def queue_counts(
    session: Session,
    *,
    statuses: Sequence[str] = OPEN_STATUSES,
    reason: Optional[str] = None,
    audience: Optional[str] = None,
    topic: Optional[str] = None,
    school: Optional[str] = None,
) -> QueueCounts:
    """How many tickets ``queue`` with the same filters holds in all, and how many of them are urgent (one query)."""
    query = select(func.count(Ticket.id), func.coalesce(func.sum(case((Ticket.priority == "urgent", 1), else_=0)), 0))
    total, urgent = session.execute(_queue_filter(query, statuses=statuses, reason=reason, audience=audience,
                                                  topic=topic, school=school)).one()
    return QueueCounts(int(total), int(urgent))


def waiting_ahead(session: Session, *, ticket: Ticket) -> int:
    """How many waiting tickets of the same school (``schools.same_queue``) a counsellor will take before this one."""
    ahead = schools.same_queue(
        select(func.count(Ticket.id)).where(Ticket.status.in_(WAITING_STATUSES), Ticket.id != ticket.id), ticket.school)
    if ticket.priority == "urgent":
        ahead = ahead.where(Ticket.priority == "urgent", Ticket.created_at < ticket.created_at)
    else:
        ahead = ahead.where(or_(Ticket.priority == "urgent", and_(Ticket.due_at.is_not(None), Ticket.due_at < ticket.due_at)))
    return int(session.execute(ahead).scalar_one())


def waiting_count(session: Session, *, school: Optional[str] = None) -> int:
    """Tickets of ``school`` (None: of no school) nobody has taken yet: a new ticket of that school waits for them."""
    query = select(func.count(Ticket.id)).where(Ticket.status.in_(WAITING_STATUSES))
    return int(session.execute(schools.same_queue(query, school)).scalar_one())


def get(session: Session, *, ticket_id: str) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise WorkflowError("ce ticket n'existe pas")
    return ticket


def take(session: Session, *, ticket_id: str, counsellor_id: int, now: datetime) -> Ticket:
    """Make ``counsellor_id`` the owner; exactly one of two simultaneous calls wins."""
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket_id,
            Ticket.status.in_(WAITING_STATUSES),
            or_(Ticket.owner_id.is_(None), Ticket.owner_id == counsellor_id),
        )
        .values(status="taken", owner_id=counsellor_id, taken_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        ticket = get(session, ticket_id=ticket_id)
        session.refresh(ticket)
        if ticket.status == "closed":
            raise WorkflowError("ce ticket est déjà clos")
        if ticket.owner_id == counsellor_id:
            return ticket
        who = ticket.owner.display_name if ticket.owner is not None else "un autre conseiller"
        raise AlreadyTaken(f"ce ticket est déjà pris par {who}")
    record(session, ticket_id=ticket_id, kind="taken", now=now, counsellor_id=counsellor_id)
    ticket = get(session, ticket_id=ticket_id)
    session.refresh(ticket)
    return ticket


def _owned(session: Session, *, ticket_id: str, counsellor_id: int, now: datetime) -> Ticket:
    ticket = get(session, ticket_id=ticket_id)
    if ticket.status == "closed":
        raise WorkflowError("ce ticket est clos : rouvrez-le d'abord")
    if ticket.owner_id is None or ticket.status in WAITING_STATUSES:
        ticket = take(session, ticket_id=ticket_id, counsellor_id=counsellor_id, now=now)
    if ticket.owner_id != counsellor_id:
        raise AlreadyTaken(f"ce ticket est suivi par {ticket.owner.display_name}")
    return ticket


def reply(session: Session, *, ticket_id: str, counsellor_id: int, text: str, now: datetime,
          kind: str = "reply", kb_id: Optional[str] = None) -> ChatMessage:
    """The counsellor's answer, written into the person's conversation."""
    text = (text or "").strip()
    if not text:
        raise WorkflowError("la réponse est vide")
    ticket = _owned(session, ticket_id=ticket_id, counsellor_id=counsellor_id, now=now)
    message = ChatMessage(
        sender_id=ticket.sender_id, author="counsellor", text=text, ticket_id=ticket.id,
        counsellor_id=counsellor_id, payload={"kind": kind, "kb_id": kb_id} if kb_id else {"kind": kind}, created_at=now,
    )
    session.add(message)
    ticket.status = "answered"
    ticket.first_reply_at = ticket.first_reply_at or now
    ticket.answered_at = now
    ticket.updated_at = now
    session.flush()
    record(session, ticket_id=ticket.id, kind=kind, now=now, counsellor_id=counsellor_id, detail={"message_id": message.id})
    if wants_delivery(ticket):  # in this transaction: no answer without its delivery, no delivery without its answer
        session.add(Delivery(ticket_id=ticket.id, message_id=message.id, channel=ticket.contact_channel, status="queued",
                             next_attempt_at=as_utc(now), created_at=now, updated_at=now))
    return message


def wants_delivery(ticket: Ticket) -> bool:
    """The person chose to be told of the answer elsewhere: by e-mail (with consent and an address) or the ENT."""
    if ticket.contact_channel == "email":
        return bool(ticket.contact_email) and bool(ticket.contact_consent)
    return ticket.contact_channel == "ent"


def close(session: Session, *, ticket_id: str, counsellor_id: int, now: datetime, resolution: str = "handed_back") -> Ticket:
    """Hand the conversation back to the bot (``handed_back``) or drop a ticket needing no answer (``dismissed``)."""
    ticket = get(session, ticket_id=ticket_id)
    if ticket.status == "closed":
        raise WorkflowError("ce ticket est déjà clos")
    if ticket.owner_id not in (None, counsellor_id) and ticket.status not in WAITING_STATUSES:
        raise AlreadyTaken(f"ce ticket est suivi par {ticket.owner.display_name}")
    ticket.status, ticket.closed_at, ticket.resolution, ticket.updated_at = "closed", now, resolution, now
    ticket.owner_id = ticket.owner_id or counsellor_id
    if ticket.mode == "live":
        session.add(ChatMessage(sender_id=ticket.sender_id, author="system", text="", ticket_id=ticket.id,
                                payload={"kind": "handed_back"}, created_at=now))
    record(session, ticket_id=ticket.id, kind=resolution, now=now, counsellor_id=counsellor_id)
    return ticket


def reopen(session: Session, *, ticket_id: str, now: datetime, counsellor_id: Optional[int] = None) -> Ticket:
    ticket = get(session, ticket_id=ticket_id)
    if ticket.status not in ("answered", "closed"):
        return ticket
    ticket.status, ticket.closed_at, ticket.resolution, ticket.updated_at = "reopened", None, None, now
    record(session, ticket_id=ticket.id, kind="reopened", now=now, counsellor_id=counsellor_id)
    return ticket


def open_ticket_for(session: Session, *, sender_id: str) -> Optional[Ticket]:
    """The conversation's most recent open ticket, if any."""
    return session.execute(
        select(Ticket).where(Ticket.sender_id == sender_id, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.created_at.desc()).limit(1)
    ).scalars().first()


def bot_paused_for(session: Session, *, sender_id: str) -> Optional[Ticket]:
    """The live ticket that pauses the bot for this conversation, if any."""
    ticket = open_ticket_for(session, sender_id=sender_id)
    return ticket if ticket is not None and ticket.mode == "live" else None


def person_wrote(session: Session, *, ticket: Ticket, message: ChatMessage, now: datetime) -> Ticket:
    """A message from the person while their ticket is open: attach it, reopen after an answer."""
    message.ticket_id = ticket.id
    if ticket.status == "answered":
        reopen(session, ticket_id=ticket.id, now=now)
    else:
        ticket.updated_at = now
    record(session, ticket_id=ticket.id, kind="person_wrote", now=now)
    return ticket


_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+")


def valid_email(address: str) -> bool:
    """A simple check of an address given for an answer: one @, no space nor control character, a dotted domain."""
    return len(address) <= 320 and ".." not in address and _EMAIL.fullmatch(address) is not None


def set_contact(session: Session, *, ticket_id: str, sender_id: str, channel: str, email: Optional[str],
                consent: bool, now: datetime) -> Ticket:
    """How the person wants the deferred answer: in the ENT messaging, or by e-mail if they consent."""
    ticket = get(session, ticket_id=ticket_id)
    if ticket.sender_id != sender_id:
        raise WorkflowError("ce ticket appartient à une autre conversation")
    if channel not in ("ent", "email"):
        raise WorkflowError("choisissez la messagerie de l'ENT ou un e-mail")
    if channel == "email":
        email = (email or "").strip()
        if not consent:
            raise WorkflowError("il faut votre accord pour utiliser votre adresse e-mail")
        if not valid_email(email):
            raise WorkflowError("cette adresse e-mail ne semble pas valide : vérifiez-la (par exemple prenom.nom@exemple.fr)")
    else:
        email, consent = None, False
    ticket.contact_channel, ticket.contact_email, ticket.contact_consent = channel, email, consent
    ticket.updated_at = now
    record(session, ticket_id=ticket.id, kind="contact", now=now, detail={"channel": channel})
    return ticket


def overdue(ticket: Ticket, *, now: datetime) -> Optional[timedelta]:
    """Time left before the due time (negative when late); None when no promise was made."""
    due = as_utc(ticket.due_at)
    return None if due is None else due - now


@dataclass(frozen=True)
class ConversationState:
    """What the chat window shows about a handoff."""

    ticket_id: Optional[str] = None
    mode: Optional[str] = None
    status: Optional[str] = None
    priority: Optional[str] = None
    due_at: Optional[str] = None
    waiting_ahead: int = 0
    contact_channel: Optional[str] = None
    # The service's time zone (its office hours'): the window shows ``due_at`` in it, not in the browser's.
    timezone: str = OfficeHours.timezone

    def to_json(self) -> Dict[str, Any]:
        return {key: value for key, value in self.__dict__.items()}


def conversation_state(session: Session, *, sender_id: str) -> ConversationState:
    ticket = open_ticket_for(session, sender_id=sender_id)
    if ticket is None:
        return ConversationState()
    due = as_utc(ticket.due_at)
    return ConversationState(
        ticket_id=ticket.id, mode=ticket.mode, status=ticket.status, priority=ticket.priority,
        due_at=due.isoformat() if due else None,
        waiting_ahead=waiting_ahead(session, ticket=ticket) if ticket.status in WAITING_STATUSES else 0,
        contact_channel=ticket.contact_channel, timezone=office_hours(session).timezone,
    )
