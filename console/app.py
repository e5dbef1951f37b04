"""The console's app factory: routes, middlewares, static files.

Owns how the pieces are put together: the engine (from the settings, or the
one a test passes), the clock (injected in tests), the guard of
``console.auth`` before every handler, French error pages, and the security
headers (a strict Content-Security-Policy: the console loads nothing from
elsewhere and runs no inline script).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

from aiohttp import web
from sqlalchemy.engine import Engine

from console import account, admin, auth, dashboard, knowledge, privacy, proposals, queue, tickets
from console.pages import CLOCK, ENGINE, SETTINGS, TEMPLATES, render, templates
from orientbot.db import make_engine
from orientbot.settings import Settings

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
MAX_REQUEST_BYTES = 256 * 1024
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
ERRORS = {
    404: ("Introuvable", "Cette page n'existe pas."),
    405: ("Action impossible", "Cette action ne s'utilise pas ainsi."),
    413: ("Texte trop long", "Ce que vous avez envoyé est trop long : raccourcissez-le et recommencez."),
}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@web.middleware
async def headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status not in ERRORS:  # redirects: raised on, with the same headers
            error.headers.update(HEADERS)
            raise
        title, message = ERRORS[error.status]
        response = (web.json_response({"error": message}, status=error.status) if auth.wants_json(request)
                    else render(request, "error.html", status=error.status, title=title, message=message))
    except Exception:
        logger.exception("console error on %s %s", request.method, request.path)
        message = "Une erreur est survenue de notre côté ; rien n'a été perdu de ce qui était déjà enregistré. Réessayez dans un instant."
        response = (web.json_response({"error": message}, status=500) if auth.wants_json(request)
                    else render(request, "error.html", status=500, title="Erreur", message=message))
    response.headers.update(HEADERS)
    if not request.path.startswith(auth.STATIC_PREFIX):
        response.headers["Cache-Control"] = "no-store"
    return response


async def index(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/queue")


def create_app(settings: Settings, engine: Optional[Engine] = None,
               now: Callable[[], datetime] = _utcnow) -> web.Application:
    app = web.Application(middlewares=[headers, auth.guard], client_max_size=MAX_REQUEST_BYTES)
    app[SETTINGS] = settings
    app[ENGINE] = engine if engine is not None else make_engine(settings.database_url)
    app[CLOCK] = now
    app[TEMPLATES] = templates()
    app.router.add_get("/", index)
    for module in (auth, queue, tickets, proposals, knowledge, admin, privacy, dashboard, account):
        app.router.add_routes(module.routes())
    app.router.add_static("/static/", STATIC)
    return app
