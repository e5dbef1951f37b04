"""Counsellors' accounts and their console sessions.

Owns who may use the console and how they stay logged in: passwords hashed
with werkzeug's scrypt (never stored or logged in clear), two roles
(``counsellor``, ``admin``), accounts deactivated rather than deleted (tickets
keep pointing at their owner).  A session is a random token kept by the
browser in a cookie; only its SHA-256 is stored, with an expiry and the CSRF
token every form and fetch must send back; it also ends after a while without
use (``idle``), the browser's cookie with the browser.  Failed log-ins are kept
a short while in the database (so that several console processes count alike):
five within 15 minutes for one username from one address, or twenty from one
address, refuse further attempts from that address for 15 minutes, whether the
account exists or not; someone elsewhere guessing a known name (``admin``)
cannot lock its owner out.  An account whose password someone else chose (the
first ``admin``, an admin's reset) must change it before anything else.  An account may belong to one
school (its UAI code, ``orientbot.schools``): it then sees that school's tickets only; without one (the
first ``admin``, a CIO counsellor, a single-school install) it sees them all.

Repository functions: keyword-only arguments, a session passed in, the moment
``now`` passed in.
"""
from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Mapping, Optional

from sqlalchemy import Column, ForeignKey, Integer, delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from orientbot import schools
from orientbot.db import Base, Counsellor, LoginAttempt, WebSession, as_utc

ROLES = ("counsellor", "admin")
ROLE_LABELS = {"counsellor": "conseiller ou conseillère", "admin": "administrateur ou administratrice"}
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 200
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
# Verifying against this when the user does not exist takes as long as a real check.
_DUMMY_HASH = generate_password_hash("not a password", method="scrypt")
MAX_LOGIN_FAILURES = 5  # for one username from one address
MAX_ADDRESS_FAILURES = 20  # from one address, any usernames (a school's or an office's shared address)
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_LOCKOUT = timedelta(minutes=15)


class PasswordChangeDue(Base):
    """An account that must choose its own password before using the console (one row per such account)."""

    __tablename__ = "password_changes_due"

    counsellor_id = Column(Integer, ForeignKey("counsellors.id", ondelete="CASCADE"), primary_key=True)


class AccountError(ValueError):
    """A refused account change; the message is French and can be shown as is."""


class TooManyAttempts(AccountError):
    """Log-ins refused for a while after repeated failures; says nothing of whether the account exists."""

    def __init__(self, until: datetime, now: datetime) -> None:
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        super().__init__(f"trop de tentatives de connexion : par sécurité, réessayez dans {minutes} minute"
                         f"{'s' if minutes > 1 else ''}")
        self.until = until


def hash_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise AccountError(f"le mot de passe doit faire entre {MIN_PASSWORD_CHARS} et {MAX_PASSWORD_CHARS} caractères")
    return generate_password_hash(password, method="scrypt")


def account_school(text: Optional[str], known: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The school typed for an account: None when empty (the whole deployment), else a checked UAI code."""
    text = (text or "").strip()
    if not text:
        return None
    if schools.normalise_uai(text) is None:
        raise AccountError(f"« {text[:20]} » n'est pas un code UAI d'établissement : 7 chiffres suivis d'une lettre, "
                           "par exemple 0751234A (laissez vide pour tous les établissements)")
    code = schools.valid_uai(text, known)
    if code is None:
        raise AccountError(f"l'établissement {text.strip().upper()} n'est pas parmi ceux que ce service dessert")
    return code


def create_counsellor(session: Session, *, username: str, password: str, display_name: str = "",
                      role: str = "counsellor", must_change_password: bool = False, school: Optional[str] = None,
                      known_schools: Optional[Mapping[str, str]] = None) -> Counsellor:
    username = (username or "").strip().lower()
    if not _USERNAME.match(username):
        raise AccountError("l'identifiant doit faire de 2 à 40 caractères : lettres minuscules, chiffres, « . », « _ » ou « - »")
    if role not in ROLES:
        raise AccountError("rôle inconnu")
    school = account_school(school, known_schools)
    display_name = " ".join((display_name or "").split())[:120] or username
    if session.execute(select(Counsellor.id).where(Counsellor.username == username)).first():
        raise AccountError(f"l'identifiant « {username} » existe déjà")
    account = Counsellor(username=username, display_name=display_name, password_hash=hash_password(password), role=role,
                         school=school)
    session.add(account)
    session.flush()
    if must_change_password:
        session.add(PasswordChangeDue(counsellor_id=account.id))
        session.flush()
    return account


def must_change_password(session: Session, *, counsellor_id: int) -> bool:
    return session.get(PasswordChangeDue, counsellor_id) is not None


def _require_change(session: Session, counsellor_id: int, required: bool) -> None:
    due = session.get(PasswordChangeDue, counsellor_id)
    if required and due is None:
        session.add(PasswordChangeDue(counsellor_id=counsellor_id))
    elif not required and due is not None:
        session.delete(due)
    session.flush()


def _login_name(username: Optional[str]) -> str:
    return (username or "").strip().lower()


def verify(session: Session, *, username: str, password: str) -> Optional[Counsellor]:
    """The active account matching these credentials, or None (same answer for every kind of failure)."""
    account = session.execute(
        select(Counsellor).where(Counsellor.username == _login_name(username))
    ).scalars().first()
    if account is None or not account.active:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return account if check_password_hash(account.password_hash, password or "") else None


def accounts(session: Session) -> List[Counsellor]:
    return list(session.execute(select(Counsellor).order_by(Counsellor.username)).scalars())


def has_accounts(session: Session) -> bool:
    return session.execute(select(func.count(Counsellor.id))).scalar_one() > 0


def _account(session: Session, counsellor_id: int) -> Counsellor:
    account = session.get(Counsellor, counsellor_id)
    if account is None:
        raise AccountError("ce compte n'existe pas")
    return account


def _other_active_admins(session: Session, counsellor_id: int) -> int:
    return session.execute(
        select(func.count(Counsellor.id)).where(
            Counsellor.role == "admin", Counsellor.active.is_(True), Counsellor.id != counsellor_id)
    ).scalar_one()


def update_account(session: Session, *, counsellor_id: int, role: str, active: bool) -> Counsellor:
    """Change a role or (de)activate; the last active admin cannot lock everybody out."""
    account = _account(session, counsellor_id)
    if role not in ROLES:
        raise AccountError("rôle inconnu")
    if account.role == "admin" and (role != "admin" or not active) and not _other_active_admins(session, counsellor_id):
        raise AccountError("il doit rester au moins un administrateur actif")
    account.role, account.active = role, active
    if not active:
        session.execute(delete(WebSession).where(WebSession.counsellor_id == counsellor_id))
    return account


def set_school(session: Session, *, counsellor_id: int, school: Optional[str],
               known: Optional[Mapping[str, str]] = None) -> Counsellor:
    """Tie an account to one school (a UAI code) or, empty, to the whole deployment."""
    account = _account(session, counsellor_id)
    account.school = account_school(school, known)
    return account


def set_password(session: Session, *, counsellor_id: int, password: str, keep_token: Optional[str] = None,
                 must_change: bool = False) -> None:
    """A new password; every session of the account ends, but the one of ``keep_token`` (its owner's, changing it).

    ``must_change``: chosen by someone else (an admin's reset), so its owner must replace it at the next log-in.
    """
    account = _account(session, counsellor_id)
    account.password_hash = hash_password(password)
    _require_change(session, counsellor_id, must_change)
    ended = delete(WebSession).where(WebSession.counsellor_id == counsellor_id)
    if keep_token:
        ended = ended.where(WebSession.token_hash != _digest(keep_token))
    session.execute(ended)


def change_password(session: Session, *, counsellor_id: int, current_password: str, new_password: str,
                    keep_token: Optional[str], address: str, now: datetime) -> None:
    """A counsellor's own change; a wrong current password counts as a failed log-in.

    That failure is written before AccountError is raised: catch it inside the session, which then commits it.
    """
    account = _account(session, counsellor_id)
    refuse_if_locked(session, username=account.username, address=address, now=now)
    if not check_password_hash(account.password_hash, current_password or ""):
        record_login_failure(session, username=account.username, address=address, now=now)
        raise AccountError("le mot de passe actuel n'est pas le bon")
    if new_password == current_password:
        raise AccountError("le nouveau mot de passe doit être différent de l'actuel")
    set_password(session, counsellor_id=counsellor_id, password=new_password, keep_token=keep_token)


def login_locked_until(session: Session, *, username: str, address: str, now: datetime) -> Optional[datetime]:
    """The end of the lock on this username from this address, or on this address, if one is on: 15 minutes after
    5 failures (this username from this address) or 20 (any username from this address) within 15 minutes.

    Never on a username alone: anyone could then lock a known account (``admin``) out from anywhere.
    """
    now = as_utc(now)
    recent = LoginAttempt.attempted_at > now - LOGIN_WINDOW - LOGIN_LOCKOUT
    same_address = LoginAttempt.address == address[:64]  # no address known (a Unix socket): all share ""
    ends = []
    for where, limit in (((same_address, LoginAttempt.username == _login_name(username)[:80]), MAX_LOGIN_FAILURES),
                         ((same_address,), MAX_ADDRESS_FAILURES)):
        times = sorted(as_utc(moment) for moment in session.execute(
            select(LoginAttempt.attempted_at).where(recent, *where)).scalars())
        ends += [times[last] + LOGIN_LOCKOUT for last in range(limit - 1, len(times))
                 if times[last] - times[last - limit + 1] <= LOGIN_WINDOW]
    return max((end for end in ends if end > now), default=None)


def refuse_if_locked(session: Session, *, username: str, address: str, now: datetime) -> None:
    until = login_locked_until(session, username=username, address=address, now=now)
    if until is not None:
        raise TooManyAttempts(until, as_utc(now))


def record_login_failure(session: Session, *, username: str, address: str, now: datetime) -> None:
    now = as_utc(now)
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at <= now - LOGIN_WINDOW - LOGIN_LOCKOUT))
    session.add(LoginAttempt(username=_login_name(username)[:80], address=address[:64], attempted_at=now))
    session.flush()


def log_in(session: Session, *, username: str, password: str, address: str, now: datetime) -> Optional[Counsellor]:
    """``verify`` behind the limit: TooManyAttempts while locked (nothing checked, nothing counted), None on a
    failure (counted, known account or not), the account on a success (its failures from this address forgotten)."""
    refuse_if_locked(session, username=username, address=address, now=now)
    account = verify(session, username=username, password=password)
    if account is None:
        record_login_failure(session, username=username, address=address, now=now)
    else:
        session.execute(delete(LoginAttempt).where(LoginAttempt.username == account.username,
                                                   LoginAttempt.address == address[:64]))
    return account


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class OpenedSession:
    token: str  # goes into the cookie, never stored
    csrf_token: str
    expires_at: datetime


def open_session(session: Session, *, counsellor_id: int, now: datetime, hours: int,
                 idle_minutes: Optional[int] = None) -> OpenedSession:
    """A session ending ``hours`` after it opened, or after ``idle_minutes`` without use if that comes first."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + timedelta(hours=hours)
    if idle_minutes:
        expires = min(expires, now + timedelta(minutes=idle_minutes))
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # tidy old ones on the way
    session.add(WebSession(token_hash=_digest(token), counsellor_id=counsellor_id, csrf_token=csrf,
                           created_at=now, expires_at=expires))
    return OpenedSession(token=token, csrf_token=csrf, expires_at=expires)


def session_for(session: Session, *, token: Optional[str], now: datetime, hours: Optional[int] = None,
                idle_minutes: Optional[int] = None) -> Optional[WebSession]:
    """The live session of an active account for this cookie token, or None.

    With ``hours`` and ``idle_minutes`` (as it was opened), this use counts as activity: the session now ends
    ``idle_minutes`` from ``now``, never later than ``hours`` after it opened (written at most once a minute).
    """
    if not token or len(token) > 200:
        return None
    web_session = session.get(WebSession, _digest(token))
    if web_session is None or as_utc(web_session.expires_at) <= now or not web_session.counsellor.active:
        return None
    if hours and idle_minutes:
        extended = min(as_utc(web_session.created_at) + timedelta(hours=hours), now + timedelta(minutes=idle_minutes))
        if extended - as_utc(web_session.expires_at) >= timedelta(minutes=1):
            web_session.expires_at = extended
    return web_session


def close_session(session: Session, *, token: Optional[str]) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
