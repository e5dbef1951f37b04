"""What every page handler shares: the app's keys, the logged-in user, rendering, redirects.

Owns the glue between aiohttp and the core: one database session per step
(``db``), the injected clock (``now``), the service's time zone every time is
shown in (``local_time``), Jinja2 rendering with autoescape on for every
template, and the French notices shown after an action.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from sqlalchemy.engine import Engine

from orientbot import emergency
from orientbot.db import Counsellor, as_utc, session_scope
from orientbot.office_hours import DAY_NAMES, OfficeHours
from orientbot.settings import Settings

ENGINE = web.AppKey("engine", Engine)
SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Callable[[], datetime])
TEMPLATES = web.AppKey("templates", jinja2.Environment)
# The service's time zone (its office hours', chosen by an admin: a school in La Réunion or Nouméa is not on
# Paris time), for the request being served: the guard sets it once per request (``use_zone``), and the times
# of every page, written by handlers and templates alike, are shown in it.
_ZONE: ContextVar[str] = ContextVar("console_zone", default=OfficeHours.timezone)

# Shown after a redirect: the query string carries a key, never text, so nothing can be injected.
NOTICES = {
    "taken": "Vous suivez maintenant ce ticket.",
    "sent": "Votre réponse a été envoyée dans la conversation.",
    "dismissed": "Ticket ignoré et clos.",
    "handed_back": "La conversation est rendue au bot.",
    "reopened": "Ticket rouvert.",
    "proposed": "Merci ! Votre proposition attend la validation d'un administrateur.",
    "approved": "Proposition approuvée : le bot s'en sert d'ici quelques secondes.",
    "rejected": "Proposition refusée.",
    "created": "Compte créé : à sa première connexion, son titulaire choisira son propre mot de passe.",
    "updated": "Modifications enregistrées.",
    "password_changed": "Votre mot de passe est changé ; vos autres sessions sont fermées.",
    "password_reset": "Mot de passe réinitialisé : les sessions ouvertes de ce compte sont fermées, et son titulaire "
                      "choisira son propre mot de passe à la prochaine connexion.",
    "bye": "Vous êtes déconnecté·e. À bientôt !",
    "kb_saved": "Modification enregistrée : le bot en tient compte d'ici quelques secondes.",
    "kb_pending": "Merci ! Votre modification attend la validation d'un administrateur.",
    "kb_merged": "Doublon fusionné : le bot répond à ses questions avec cette entrée d'ici quelques secondes.",
    "kb_split": "Nouvelle entrée créée avec les questions choisies ; le bot s'en sert d'ici quelques secondes.",
    "kb_retired": "Entrée retirée : le bot ne la donnera plus d'ici quelques secondes.",
    "kb_restored": "Entrée remise en service : le bot s'en sert d'ici quelques secondes.",
    "kb_reviewed": "Entrée marquée comme relue.",
    "kb_approved": "Modification approuvée : le bot en tient compte d'ici quelques secondes.",
    "kb_rejected": "Modification refusée.",
    "erased": "Conversation effacée : ses messages, ses appréciations et la copie du bot sont supprimés, ses tickets "
              "ne gardent que leurs dates et leur motif.",
}


@dataclass(frozen=True)
class User:
    """The logged-in counsellor, detached from any database session."""

    id: int
    username: str
    display_name: str
    role: str
    # The school whose tickets the account sees (orientbot.schools.visible_to); None: every ticket.
    school: Optional[str] = None

    @classmethod
    def of(cls, account: Counsellor) -> "User":
        return cls(account.id, account.username, account.display_name, account.role, account.school)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def db(request: web.Request):
    return session_scope(request.app[ENGINE])


def now(request: web.Request) -> datetime:
    return request.app[CLOCK]()


def use_zone(name: str) -> None:
    """Show this request's times in ``name`` (a zone ``OfficeHours`` accepted)."""
    _ZONE.set(name)


def zone() -> str:
    """The time zone of the request being served."""
    return _ZONE.get()


def local_time(moment: Optional[datetime], *, with_day: bool = True) -> str:
    """"lun. 07/12 à 14:05" in the service's time zone."""
    if moment is None:
        return ""
    local = as_utc(moment).astimezone(ZoneInfo(zone()))
    clock = local.strftime("%H:%M")
    return f"{DAY_NAMES[local.weekday()][:3]}. {local:%d/%m} à {clock}" if with_day else clock


def templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("console", "templates"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    environment.filters["local"] = local_time
    environment.globals["hotlines"] = emergency.hotline_summary()
    return environment


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    user = request.get("user")
    page = request.app[TEMPLATES].get_template(template).render(
        user=user, csrf=request.get("csrf", ""), path=request.path,
        notice=NOTICES.get(request.query.get("ok", "")), **{"error": "", **context},
    )
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


def see_other(location: str, notice: Optional[str] = None) -> web.HTTPSeeOther:
    """Redirect after a POST (``notice``: a key of NOTICES)."""
    if notice:
        location += ("&" if "?" in location else "?") + f"ok={notice}"
    return web.HTTPSeeOther(location)


async def form(request: web.Request) -> dict:
    """The posted fields as plain strings (a file upload or a repeated field keeps its first text value)."""
    data = await request.post()
    return {key: value for key, value in reversed(list(data.items())) if isinstance(value, str)}


def sentence(message: str) -> str:
    """The core's French messages are clauses ("ce ticket est clos"): shown as sentences."""
    message = str(message).strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "!", "?")) else ".")


def not_found(request: web.Request, message: str) -> web.Response:
    if request.path.startswith("/api/"):
        return web.json_response({"error": message}, status=404)
    return render(request, "error.html", status=404, title="Introuvable", message=message)
