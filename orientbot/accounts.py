"""Counsellors' accounts and their console sessions.

Owns who may use the console and how they stay logged in: passwords hashed
with werkzeug's scrypt (never stored or logged in clear), two roles
(``counsellor``, ``admin``), accounts deactivated rather than deleted (tickets
keep pointing at their owner).  A session is a random token kept by the
browser in a cookie; only its SHA-256 is stored, with an expiry and the CSRF
token every form and fetch must send back.

Repository functions: keyword-only arguments, a session passed in, the moment
``now`` passed in.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from orientbot.db import Counsellor, WebSession, as_utc

ROLES = ("counsellor", "admin")
ROLE_LABELS = {"counsellor": "conseiller ou conseillère", "admin": "administrateur ou administratrice"}
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 200
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
# Verifying against this when the user does not exist takes as long as a real check.
_DUMMY_HASH = generate_password_hash("not a password", method="scrypt")


class AccountError(ValueError):
    """A refused account change; the message is French and can be shown as is."""


def hash_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise AccountError(f"le mot de passe doit faire entre {MIN_PASSWORD_CHARS} et {MAX_PASSWORD_CHARS} caractères")
    return generate_password_hash(password, method="scrypt")


def create_counsellor(session: Session, *, username: str, password: str, display_name: str = "",
                      role: str = "counsellor") -> Counsellor:
    username = (username or "").strip().lower()
    if not _USERNAME.match(username):
        raise AccountError("l'identifiant doit faire de 2 à 40 caractères : lettres minuscules, chiffres, « . », « _ » ou « - »")
    if role not in ROLES:
        raise AccountError("rôle inconnu")
    display_name = " ".join((display_name or "").split())[:120] or username
    if session.execute(select(Counsellor.id).where(Counsellor.username == username)).first():
        raise AccountError(f"l'identifiant « {username} » existe déjà")
    account = Counsellor(username=username, display_name=display_name, password_hash=hash_password(password), role=role)
    session.add(account)
    session.flush()
    return account


def verify(session: Session, *, username: str, password: str) -> Optional[Counsellor]:
    """The active account matching these credentials, or None (same answer for every kind of failure)."""
    account = session.execute(
        select(Counsellor).where(Counsellor.username == (username or "").strip().lower())
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


def set_password(session: Session, *, counsellor_id: int, password: str) -> None:
    account = _account(session, counsellor_id)
    account.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.counsellor_id == counsellor_id))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class OpenedSession:
    token: str  # goes into the cookie, never stored
    csrf_token: str
    expires_at: datetime


def open_session(session: Session, *, counsellor_id: int, now: datetime, hours: int) -> OpenedSession:
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + timedelta(hours=hours)
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # tidy old ones on the way
    session.add(WebSession(token_hash=_digest(token), counsellor_id=counsellor_id, csrf_token=csrf,
                           created_at=now, expires_at=expires))
    return OpenedSession(token=token, csrf_token=csrf, expires_at=expires)


def session_for(session: Session, *, token: Optional[str], now: datetime) -> Optional[WebSession]:
    """The live session of an active account for this cookie token, or None."""
    if not token or len(token) > 200:
        return None
    web_session = session.get(WebSession, _digest(token))
    if web_session is None or as_utc(web_session.expires_at) <= now or not web_session.counsellor.active:
        return None
    return web_session


def close_session(session: Session, *, token: Optional[str]) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
