"""The admins' page for a person's request about their data: find the conversation, export it, erase it.

Owns the console's side of ``orientbot.subject_access``.  The search shows dates and counts, never the
messages; the export is a JSON download; erasing asks to type the conversation id again, then does what
the person's own "Effacer" does, Rasa's copy included.  Admins only (``console.auth`` guards /admin); an
admin of a school finds, exports and erases only that school's conversations (``orientbot.schools``), and
another's is "not found".
"""
from __future__ import annotations

import json
import os

from aiohttp import web
from sqlalchemy import select

from console.pages import SETTINGS, db, form, now, render, see_other, sentence
from orientbot import schools, subject_access
from orientbot.db import Ticket, make_engine
from orientbot.retention import tracker_database_url

MAX_FIELD_CHARS = 320
# The same words as for an unknown id: another school's conversation is not revealed.
NOT_FOUND = "aucune donnée pour cette conversation (identifiant inconnu, ou déjà effacée)"


def _visible(request: web.Request, session, sender_id: str) -> bool:
    school = request["user"].school
    if school is None:
        return True
    ticket_schools = session.execute(select(Ticket.school).where(Ticket.sender_id == sender_id)).scalars()
    return schools.conversation_visible(sender_id, ticket_schools, school)


def _page(request: web.Request, *, values: dict, found=None, error: str = "", status: int = 200) -> web.Response:
    return render(request, "subject_access.html", status=status, values=values, found=found, error=error)


async def search_page(request: web.Request) -> web.Response:
    values = {key: request.query.get(key, "")[:MAX_FIELD_CHARS] for key in ("conversation", "email", "text")}
    if not any(values.values()):
        return _page(request, values=values)
    try:
        with db(request) as session:
            found = [item for item in subject_access.find(session, sender_id=values["conversation"],
                                                          email=values["email"], text=values["text"])
                     if _visible(request, session, item.sender_id)]
    except subject_access.RequestError as error:
        return _page(request, values=values, error=sentence(error), status=400)
    return _page(request, values=values, found=found)


async def export(request: web.Request) -> web.Response:
    sender_id = request.match_info["sender_id"][:255]
    try:
        with db(request) as session:
            if not _visible(request, session, sender_id):
                raise subject_access.RequestError(NOT_FOUND)
            document = subject_access.export(session, sender_id=sender_id, now=now(request))
    except subject_access.RequestError as error:
        return _page(request, values={"conversation": sender_id, "email": "", "text": ""}, error=sentence(error), status=404)
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return web.Response(text=body, content_type="application/json", charset="utf-8",
                        headers={"Content-Disposition": 'attachment; filename="donnees-conversation.json"'})


async def erase(request: web.Request) -> web.Response:
    sender_id = request.match_info["sender_id"][:255]
    fields = await form(request)
    values = {"conversation": sender_id, "email": "", "text": ""}
    if fields.get("confirm", "").strip() != sender_id:
        return _page(request, values=values, status=400,
                     error="Pour effacer, recopiez l'identifiant exact de la conversation dans la case de confirmation.")
    url = tracker_database_url(request.app[SETTINGS], os.environ)
    tracker = make_engine(url) if url else None
    try:
        with db(request) as session:
            if not _visible(request, session, sender_id):
                return _page(request, values=values, error=sentence(NOT_FOUND), status=404)
            subject_access.erase(session, sender_id=sender_id, now=now(request), tracker_engine=tracker)
    finally:
        if tracker is not None:
            tracker.dispose()
    raise see_other("/admin/personnes", "erased")


def routes() -> list:
    return [
        web.get("/admin/personnes", search_page),
        web.get("/admin/personnes/{sender_id}/export", export),
        web.post("/admin/personnes/{sender_id}/erase", erase),
    ]
