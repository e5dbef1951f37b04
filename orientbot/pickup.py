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

``PickupDesk.after_handoff`` is what the handoff action calls once its ticket is written: in one
transaction it issues the code of a deferred ticket and queues the on-call alert of an urgent one
(``orientbot.delivery.queue_on_call``).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, List, Optional, Tuple

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from orientbot.db import ChatMessage, PickupCode, Ticket, as_utc, session_scope
from orientbot.settings import PickupSettings

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
    """A new code for ``ticket_id``, as the person is to read it (``ABCD-EFGH``); only its hash is written."""
    for _ in range(5):  # a collision among ~8.5e11 codes is unlikely, never impossible
        code = new_code(settings.code_length)
        digest = code_hash(key, code)
        if session.execute(select(PickupCode.id).where(PickupCode.code_hash == digest)).first() is None:
            break
    else:
        raise RuntimeError("no free retrieval code")
    session.add(PickupCode(ticket_id=ticket_id, code_hash=digest, created_at=now,
                           expires_at=now + timedelta(days=settings.expiry_days), reads=0))
    return shown(code)


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


class PickupDesk:
    """What a handoff adds to its written ticket, in one transaction: a code when deferred, the on-call alert."""

    def __init__(self, engine: Engine, key: bytes, *, settings: PickupSettings = PickupSettings(),
                 on_call: bool = False) -> None:
        self._engine, self._key, self.settings, self._on_call = engine, key, settings, on_call

    def after_handoff(self, *, ticket_id: str, mode: str, priority: str, now: datetime, new: bool = True) -> Optional[str]:
        """The code to give the person (None for a live ticket); a new urgent deferred one also alerts on-call.

        ``new`` is False when the handoff was a resent request joined to the ticket it had already opened
        (``TicketReceipt.new``): the person gets a code again, on-call is not alerted twice.
        """
        from orientbot.delivery import queue_on_call  # delivery imports the workflow: only when needed

        if mode != "deferred":
            return None
        with session_scope(self._engine) as session:
            code = issue(session, key=self._key, ticket_id=ticket_id, now=now, settings=self.settings)
            if self._on_call and priority == "urgent" and new:
                queue_on_call(session, ticket_id=ticket_id, now=now)
        return code
