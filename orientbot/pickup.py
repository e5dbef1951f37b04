"""Retrieval codes: an evening answer read with a short code, without leaving an address.

Owns the ``pickup_codes`` table and its rules.  At a deferred handoff (the evening, a weekend) the person
gets a code of ``pickup.code_length`` characters (``secrets``; an alphabet without 0/O, 1/I/L, shown as
``ABCD-EFGH``) and the address of a page where typing it shows the counsellor's answer once it is written:
the question asked and the counsellor's answer(s) on that ticket, nothing else of the conversation.

Only an HMAC-SHA256 of the code (with the chat window's token key, ``privacy.token_key``) is stored, so
the table alone gives no working code.  A code expires after ``pickup.expiry_days``, and is deleted with
its conversation (``orientbot.chatlog.erase``), with its ticket and once expired (``orientbot.retention``).
The page (``bot/channels/chat.py``) limits guesses per address; ``answer_for`` says nothing about a code
it does not serve, whether unknown, mistyped or expired.

``PickupDesk.promise`` is what the handoff action calls *before* its ticket is written: the code of a
deferred ticket is drawn then, its hash travels with the ticket (``NewTicket.pickup_hash``), and the ticket
store writes it (``record``) in the ticket's own transaction, together with the on-call alert an urgent
deferred ticket owes (``orientbot.delivery.queue_on_call``).  So a ticket spooled while the database is down
(``orientbot.tickets``) carries the code the person was given and its alert, both written when the spool is
imported: the code works from then on, nothing promised is lost.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, List, Optional, Tuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from orientbot.db import ChatMessage, PickupCode, Ticket, as_utc
from orientbot.settings import PickupSettings

logger = logging.getLogger(__name__)

# No 0/O nor 1/I/L: a code read aloud, copied from a phone or typed by a grandparent stays one code.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_SEPARATORS = str.maketrans("", "", " -._\u00a0\t")


def new_code(length: int = PickupSettings.code_length) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def shown(code: str) -> str:
    """``ABCD-EFGH``: halves are easier to copy than eight letters in a row."""
    half = (len(code) + 1) // 2
    return f"{code[:half]}-{code[half:]}"


def normalise(typed: object, *, length: int = PickupSettings.code_length) -> Optional[str]:
    """The code as stored, from what a person typed (case, spaces and dashes do not matter), or None."""
    if not isinstance(typed, str) or len(typed) > 4 * length:
        return None
    code = typed.translate(_SEPARATORS).upper()
    if len(code) != length or any(char not in ALPHABET for char in code):
        return None
    return code


def code_hash(key: bytes, code: str) -> str:
    return hmac.new(key, b"orientbot-pickup:" + code.encode("ascii"), hashlib.sha256).hexdigest()


def issue(session: Session, *, key: bytes, ticket_id: str, now: datetime,
          settings: PickupSettings = PickupSettings()) -> str:
    """A new code for ``ticket_id`` drawn with the database at hand, as the person is to read it (``ABCD-EFGH``);
    only its hash is written.  (A handoff draws its code before the ticket is written: ``PickupDesk.promise``.)"""
    for _ in range(5):  # a collision among ~8.5e11 codes is unlikely, never impossible
        code = new_code(settings.code_length)
        digest = code_hash(key, code)
        if session.execute(select(PickupCode.id).where(PickupCode.code_hash == digest)).first() is None:
            break
    else:
        raise RuntimeError("no free retrieval code")
    record(session, ticket_id=ticket_id, digest=digest, created_at=now, expires_at=now + timedelta(days=settings.expiry_days))
    return shown(code)


def record(session: Session, *, ticket_id: str, digest: str, created_at: datetime, expires_at: datetime) -> bool:
    """Store a code drawn before its ticket was written (``PickupDesk.promise``); False if it cannot serve.

    The person already holds the code, so a clash with another ticket's code (about one in 10^11) cannot be
    avoided by drawing again: both codes are withdrawn, so that neither person reads the other's answer
    (each still gets the answer in the conversation, or where they chose).
    """
    held = session.execute(select(PickupCode).where(PickupCode.code_hash == digest)).scalars().first()
    if held is not None:
        if held.ticket_id == ticket_id:
            return True  # already written by an earlier import of the same spool
        logger.error("retrieval code clash between tickets %s and %s: both codes withdrawn", held.ticket_id, ticket_id)
        session.delete(held)
        return False
    session.add(PickupCode(ticket_id=ticket_id, code_hash=digest, created_at=created_at, expires_at=expires_at, reads=0))
    return True


@dataclass(frozen=True)
class PickupAnswer:
    """What the page shows for a valid code: the question and the answers, or when to come back."""

    audience: str  # "parent" (vous) or "eleve" (tu)
    question: str
    answers: Tuple[Tuple[str, datetime], ...]  # the counsellor's messages on the ticket, oldest first
    due_at: Optional[datetime]
    closed: bool  # the ticket was closed without a written answer
    expires_at: datetime

    @property
    def ready(self) -> bool:
        return bool(self.answers)


def answer_for(session: Session, *, key: bytes, typed: object, now: datetime,
               settings: PickupSettings = PickupSettings()) -> Optional[PickupAnswer]:
    """The ticket's question and answers for a valid code, else None (unknown, mistyped and expired alike)."""
    code = normalise(typed, length=settings.code_length)
    if code is None:
        return None
    digest = code_hash(key, code)
    row = session.execute(select(PickupCode).where(PickupCode.code_hash == digest)).scalars().first()
    # The lookup is by keyed hash (nothing to learn from its timing); compared again in constant time.
    if row is None or not hmac.compare_digest(row.code_hash, digest) or as_utc(row.expires_at) <= as_utc(now):
        return None
    ticket = session.get(Ticket, row.ticket_id)
    if ticket is None:
        return None
    messages: List[ChatMessage] = list(session.execute(
        select(ChatMessage).where(ChatMessage.ticket_id == ticket.id, ChatMessage.author == "counsellor",
                                  ChatMessage.erased.is_(False)).order_by(ChatMessage.id)).scalars())
    row.reads, row.last_used_at = (row.reads or 0) + 1, now
    return PickupAnswer(
        audience=ticket.audience, question=ticket.question,
        answers=tuple((message.text, as_utc(message.created_at)) for message in messages if message.text),
        due_at=as_utc(ticket.due_at), closed=ticket.status == "closed", expires_at=as_utc(row.expires_at))


def erase_for_tickets(session: Session, ticket_ids: Iterable[str]) -> int:
    """Delete the codes of these tickets (their conversation is erased, or they are); returns how many."""
    ticket_ids = list(ticket_ids)
    if not ticket_ids:
        return 0
    return int(session.execute(delete(PickupCode).where(PickupCode.ticket_id.in_(ticket_ids))
                               .execution_options(synchronize_session=False)).rowcount or 0)


def purge_expired(session: Session, *, now: datetime) -> int:
    return int(session.execute(delete(PickupCode).where(PickupCode.expires_at <= now)
                               .execution_options(synchronize_session=False)).rowcount or 0)


@dataclass(frozen=True)
class Promise:
    """What a deferred handoff promises beside the ticket: the code to give, and what the ticket store writes."""

    code: str  # as the person reads it, ``ABCD-EFGH``; never stored
    digest: str  # ``code_hash`` of it: written with the ticket (or spooled with it)
    expires_at: datetime
    alert_on_call: bool  # an urgent ticket while the service is closed: the on-call address is told


class PickupDesk:
    """What a deferred handoff promises: a code for the person, and the on-call alert of an urgent ticket."""

    def __init__(self, key: bytes, *, settings: PickupSettings = PickupSettings(), on_call: bool = False) -> None:
        self._key, self.settings, self._on_call = key, settings, on_call

    def promise(self, *, mode: str, priority: str, now: datetime) -> Optional[Promise]:
        """Drawn before the ticket is written (None for a live ticket): the ticket carries its hash and alert.

        No database is read: the code is given even when the ticket can only be spooled.
        """
        if mode != "deferred":
            return None
        code = new_code(self.settings.code_length)
        return Promise(code=shown(code), digest=code_hash(self._key, code),
                       expires_at=now + timedelta(days=self.settings.expiry_days),
                       alert_on_call=self._on_call and priority == "urgent")
