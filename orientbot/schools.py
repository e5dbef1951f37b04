"""Schools (établissements) of a deployment, and who sees which school's tickets.

Owns the one format that ties a conversation to a school and the one visibility rule:

* a school is identified by its UAI code, 7 digits and a letter (``0751234A``); ``valid_uai`` says
  whether a text is one (upper-cased), and, when ``schools.known`` lists the deployment's schools, one of them;
* the chat window's conversation of a school has the sender id ``e-<UAI>-<32 hex digits>``
  (``sender_for_school``): the channel's token is an HMAC of the whole sender id, so the school is signed with
  it and cannot be changed without a new conversation; ``school_of_sender`` reads it back, and is the only
  place that parses a sender id for a school.  Only the chat channel issues such ids: a conversation of
  another channel (REST, where the caller chooses any sender) has no school (``school_of_conversation``);
* ``visible_to`` filters a ticket query for a counsellor: an account without a school (a CIO counsellor,
  a single-school install, the first admin) sees every ticket; an account of a school sees only that
  school's tickets, never the tickets of no school;
* ``same_queue`` filters a ticket query to the queue a ticket waits in: its school's tickets, or the tickets
  of no school for a ticket of no school (the position "N personnes avant toi" and the promised time count
  those only).
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional

UAI = re.compile(r"^[0-9]{7}[A-Z]$")
SCHOOL_SENDER = re.compile(r"^e-([0-9]{7}[A-Z])-([0-9a-f]{32})$")
RANDOM_PART = re.compile(r"^[0-9a-f]{32}$")
# The channel whose sender ids are issued by the server (bot/channels/chat.py ChatInput.name()).
SIGNED_CHANNEL = "chat"


def normalise_uai(text: Any) -> Optional[str]:
    """``text`` as a UAI code (trimmed, upper-cased), or None when it is not one."""
    if not isinstance(text, str):
        return None
    code = text.strip().upper()
    return code if UAI.match(code) else None


def valid_uai(text: Any, known: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The UAI code ``text`` names, or None: badly formed, or not one of ``known`` when that is not empty."""
    code = normalise_uai(text)
    if code is None or (known and code not in known):
        return None
    return code


def sender_for_school(school: str, random_part: str) -> str:
    """The sender id of a conversation of ``school`` (a valid UAI) with ``random_part`` (32 hex digits)."""
    code = normalise_uai(school)
    if code is None or not RANDOM_PART.match(random_part):
        raise ValueError("a school's sender id needs a UAI code and 32 hexadecimal digits")
    return f"e-{code}-{random_part}"


def school_of_sender(sender_id: Any) -> Optional[str]:
    """The school a chat window's sender id carries, or None."""
    if not isinstance(sender_id, str):
        return None
    found = SCHOOL_SENDER.match(sender_id)
    return found.group(1) if found else None


def school_of_conversation(sender_id: Any, input_channel: Optional[str]) -> Optional[str]:
    """The school of a conversation: only the chat channel's (signed) sender ids carry one."""
    return school_of_sender(sender_id) if input_channel == SIGNED_CHANNEL else None


def school_name(school: Optional[str], known: Optional[Mapping[str, str]] = None) -> str:
    """How the console names a school: its display name from ``schools.known``, else its code."""
    if not school:
        return "Tous les établissements"
    name = (known or {}).get(school)
    return f"{name} ({school})" if name else school


def visible_to(query: Any, counsellor_school: Optional[str]) -> Any:
    """``query`` (a select involving ``Ticket``) cut to the tickets ``counsellor_school`` may see."""
    if counsellor_school is None:
        return query
    from orientbot.db import Ticket  # here: the format functions above are used where no database is

    return query.where(Ticket.school == counsellor_school)


def same_queue(query: Any, school: Optional[str]) -> Any:
    """``query`` (a select involving ``Ticket``) cut to the tickets waiting in the same queue as a ticket of ``school``."""
    from orientbot.db import Ticket

    return query.where(Ticket.school.is_(None) if school is None else Ticket.school == school)


def ticket_visible(ticket_school: Optional[str], counsellor_school: Optional[str]) -> bool:
    """The same rule for one ticket already loaded."""
    return counsellor_school is None or ticket_school == counsellor_school


def conversation_visible(sender_id: str, ticket_schools: Iterable[Optional[str]],
                         counsellor_school: Optional[str]) -> bool:
    """The same rule for a whole conversation (the subject-access page): its sender id's school, and every
    one of its tickets visible (a REST caller may choose a sender id that looks like a school's; its tickets
    have no school)."""
    if counsellor_school is None:
        return True
    return school_of_sender(sender_id) == counsellor_school and all(
        ticket_visible(school, counsellor_school) for school in ticket_schools)
