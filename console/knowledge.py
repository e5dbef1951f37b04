"""The knowledge pages: counsellors look after the KB entries the bot answers from.

Owns the console's side of ``orientbot.kb_admin``: the list of entries (search,
topic, entries to review or out of date, most asked, most 👎), an entry's page
(its questions, both answers, sources, validity, last review, how often it was
served, its feedback, its pending changes and its history), the forms that edit,
merge, split, retire, restore or review it, and the page of changes waiting for
an admin.  An admin's change applies at once; a counsellor's waits for an admin
(approving lives under /admin, which the guard keeps to admins).  What is typed
goes through the pipeline's anonymiser.  The action server reloads the KB every
few seconds, so an applied change reaches the bot's answers without a rebuild.
"""
from __future__ import annotations

from datetime import date
from typing import Optional
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select

from console.pages import db, form, not_found, now, render, see_other, sentence, zone
from knowledge.anonymise import anonymise_text
from orientbot import kb_admin
from orientbot.db import Counsellor, KBEntry
from orientbot.kb_admin import Actor, KnowledgeAdminError
from orientbot.topics import TOPIC_NAMES

APPLIED_NOTICES = {"edit": "kb_saved", "merge": "kb_merged", "split": "kb_split", "retire": "kb_retired",
                   "restore": "kb_restored", "review": "kb_reviewed"}
REQUESTS = {"retire": kb_admin.request_retire, "restore": kb_admin.request_restore,
            "review": kb_admin.request_review, "merge": kb_admin.request_merge}
SHOW_LABELS = {"": "en service ou à relire", "review": "à relire", "outdated": "date de validité dépassée",
               "retired": "retirées", "merged": "fusionnées", "all": "toutes"}
ORDER_LABELS = {"asked": "les plus demandées", "disliked": "les plus de 👎", "title": "par titre"}
FIELD_LABELS = {"title": "Titre (élèves)", "title_parent": "Titre (parents)", "answer_eleve": "Réponse pour un élève",
                "answer_parent": "Réponse pour un parent", "sources": "Sources", "valid_until": "Valable jusqu'au",
                "status": "Statut", "review_reasons": "Points à relire", "merged_into": "Fusionnée dans",
                "questions": "Questions"}
EDIT_FIELDS = ("title", "title_parent", "answer_eleve", "answer_parent", "sources", "valid_until")
SPLIT_FIELDS = ("title", "title_parent", "answer_eleve", "answer_parent", "sources")


def _actor(request: web.Request) -> Actor:
    user = request["user"]
    return Actor(user.id, user.is_admin)


def _today(request: web.Request) -> date:
    return now(request).astimezone(ZoneInfo(zone())).date()


def _entry_path(entry_id: str) -> str:
    return f"/knowledge/entries/{quote(entry_id, safe='')}"


def _names(session) -> dict:
    return dict(session.execute(select(Counsellor.id, Counsellor.display_name)).all())


def _context(session) -> dict:
    """What every knowledge template shows besides its page: labels, and the names of the people."""
    return {"names": _names(session), "status_labels": kb_admin.STATUS_LABELS, "action_labels": kb_admin.ACTION_LABELS}


# ---------------------------------------------------------------------------------------------------- list


async def list_page(request: web.Request) -> web.Response:
    chosen = {key: request.query.get(key, "")[:200] for key in ("q", "topic", "show", "order")}
    chosen["show"] = chosen["show"] if chosen["show"] in SHOW_LABELS else ""
    chosen["order"] = chosen["order"] if chosen["order"] in ORDER_LABELS else "asked"
    with db(request) as session:
        listed = kb_admin.list_entries(session, today=_today(request), search=chosen["q"], topic=chosen["topic"],
                                       show=chosen["show"], order=chosen["order"])
        pending = len(kb_admin.pending_changes(session))
        return render(request, "knowledge.html", entries=listed[:kb_admin.MAX_LISTED], total=len(listed),
                      limit=kb_admin.MAX_LISTED, chosen=chosen, topics=TOPIC_NAMES, shows=SHOW_LABELS,
                      orders=ORDER_LABELS, pending=pending, status_labels=kb_admin.STATUS_LABELS)


# ---------------------------------------------------------------------------------------------------- entry page


def _shown(name: str, value):
    """A field's value as a counsellor reads it: dates the French way, statuses in words."""
    if name == "valid_until" and value:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    if name == "status" and value:
        return kb_admin.STATUS_LABELS.get(value, value)
    return value


def _line(name: str, before, after) -> tuple:
    return FIELD_LABELS.get(name, name), _shown(name, before), _shown(name, after)


def _change_summary(session, change, entry: Optional[KBEntry]) -> list:
    """(label, before, after) lines saying what a pending change would do."""
    payload = change.payload or {}
    if change.kind == "edit" and entry is not None:
        current = kb_admin.snapshot(entry)
        return [_line(name, current[name], payload.get(name)) for name in EDIT_FIELDS
                if current[name] != payload.get(name)]
    if change.kind == "merge":
        duplicate = session.get(KBEntry, payload.get("duplicate", ""))
        return [("Doublon à fusionner ici", None, f"{duplicate.title} ({duplicate.id})" if duplicate else
                 payload.get("duplicate"))]
    if change.kind == "split":
        moved = kb_admin.variant_texts(session, payload.get("variant_ids", []))
        return [("Questions qui partent", None, list(moved.values())),
                *((FIELD_LABELS[name], None, payload.get(name)) for name in SPLIT_FIELDS if payload.get(name))]
    return []


def _pending_view(session, changes) -> list:
    views = []
    for change in changes:
        entry = session.get(KBEntry, change.target_entry_id)
        views.append({"change": change, "entry": entry, "lines": _change_summary(session, change, entry)})
    return views


def _entry_page(request: web.Request, entry_id: str, *, error: str = "", status: int = 200) -> web.Response:
    with db(request) as session:
        entry = kb_admin.entry_with_variants(session, entry_id)
        if entry is None:
            return not_found(request, "Cette entrée n'existe pas (ou plus à cette adresse).")
        others = [(other_id, title) for other_id, title in session.execute(
            select(KBEntry.id, KBEntry.title).where(KBEntry.id != entry.id, KBEntry.status != "merged")
            .order_by(KBEntry.title)).all()]
        versions = [{"version": version, "lines": [_line(*change) for change in kb_admin.changed_fields(version)]}
                    for version in kb_admin.history(session, entry.id)]
        return render(
            request, "knowledge_entry.html", status=status, error=error, entry=entry,
            topic=kb_admin.entry_topic(entry), usage=kb_admin.usage(session, entry_ids=[entry.id]).get(
                entry.id, kb_admin.Usage()),
            out_of_date=entry.valid_until is not None and entry.valid_until < _today(request),
            pending=_pending_view(session, kb_admin.pending_changes(session, entry_id=entry.id)),
            versions=versions, others=others, merged_here=list(session.execute(
                select(KBEntry.id, KBEntry.title).where(KBEntry.merged_into == entry.id)).all()),
            **_context(session))


async def entry_page(request: web.Request) -> web.Response:
    return _entry_page(request, request.match_info["entry_id"])


async def _act(request: web.Request, kind: str, **fields) -> web.Response:
    """Ask for a change of the entry of the URL; back to its page with the right notice, or the page with the error."""
    entry_id = request.match_info["entry_id"]
    try:
        with db(request) as session:
            change = REQUESTS[kind](session, actor=_actor(request), entry_id=entry_id, now=now(request), **fields)
    except KnowledgeAdminError as error:
        return _entry_page(request, entry_id, error=sentence(error), status=400)
    if not change.applied:
        raise see_other(_entry_path(entry_id), "kb_pending")
    raise see_other(_entry_path(change.entry_id), APPLIED_NOTICES[kind])


async def retire(request: web.Request) -> web.Response:
    return await _act(request, "retire")


async def restore(request: web.Request) -> web.Response:
    return await _act(request, "restore")


async def review(request: web.Request) -> web.Response:
    return await _act(request, "review")


async def merge(request: web.Request) -> web.Response:
    fields = await form(request)
    return await _act(request, "merge", duplicate_id=fields.get("duplicate", "")[:120])


# ---------------------------------------------------------------------------------------------------- forms


def _form_values(entry: KBEntry) -> dict:
    return {"title": entry.title, "title_parent": entry.title_parent or "", "answer_eleve": entry.answer_eleve,
            "answer_parent": entry.answer_parent, "sources": "\n".join(entry.sources or ()),
            "valid_until": entry.valid_until.isoformat() if entry.valid_until else ""}


def _edit_form(request: web.Request, entry_id: str, *, values: Optional[dict] = None, error: str = "",
               status: int = 200, split: bool = False) -> web.Response:
    with db(request) as session:
        entry = kb_admin.entry_with_variants(session, entry_id)
        if entry is None:
            return not_found(request, "Cette entrée n'existe pas (ou plus à cette adresse).")
        if values is None:
            values = _form_values(entry) if not split else {
                "title": "", "title_parent": "", "answer_eleve": entry.answer_eleve,
                "answer_parent": entry.answer_parent, "sources": "\n".join(entry.sources or ()), "chosen": []}
        return render(request, "knowledge_split.html" if split else "knowledge_edit.html", status=status, error=error,
                      entry=entry, values=values, **_context(session))


async def edit_page(request: web.Request) -> web.Response:
    return _edit_form(request, request.match_info["entry_id"])


async def edit(request: web.Request) -> web.Response:
    entry_id = request.match_info["entry_id"]
    fields = await form(request)
    values = {key: fields.get(key, "") for key in EDIT_FIELDS}
    try:
        with db(request) as session:
            change = kb_admin.request_edit(
                session, actor=_actor(request), entry_id=entry_id, title=values["title"],
                title_parent=values["title_parent"], answer_eleve=values["answer_eleve"],
                answer_parent=values["answer_parent"], sources=values["sources"].split(),
                valid_until=values["valid_until"], anonymise=anonymise_text, now=now(request))
    except KnowledgeAdminError as error:
        return _edit_form(request, entry_id, values=values, error=sentence(error), status=400)
    raise see_other(_entry_path(entry_id), "kb_saved" if change.applied else "kb_pending")


async def split_page(request: web.Request) -> web.Response:
    return _edit_form(request, request.match_info["entry_id"], split=True)


async def split(request: web.Request) -> web.Response:
    entry_id = request.match_info["entry_id"]
    fields = await form(request)
    values = {key: fields.get(key, "") for key in SPLIT_FIELDS}
    chosen = [int(key.removeprefix("variant_")) for key in fields
              if key.startswith("variant_") and key.removeprefix("variant_").isdigit()]
    values["chosen"] = chosen
    try:
        with db(request) as session:
            change = kb_admin.request_split(
                session, actor=_actor(request), entry_id=entry_id, variant_ids=chosen, title=values["title"],
                title_parent=values["title_parent"], answer_eleve=values["answer_eleve"],
                answer_parent=values["answer_parent"], sources=values["sources"].split(),
                anonymise=anonymise_text, now=now(request))
    except KnowledgeAdminError as error:
        return _edit_form(request, entry_id, values=values, error=sentence(error), status=400, split=True)
    if not change.applied:
        raise see_other(_entry_path(entry_id), "kb_pending")
    raise see_other(_entry_path(change.entry_id), "kb_split")


# ---------------------------------------------------------------------------------------------------- pending changes


def _changes_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    with db(request) as session:
        return render(request, "knowledge_changes.html", status=status, error=error,
                      pending=_pending_view(session, kb_admin.pending_changes(session)), **_context(session))


async def changes_page(request: web.Request) -> web.Response:
    return _changes_page(request)


async def _decide(request: web.Request, step, notice: str) -> web.Response:
    back = request.query.get("back", "")
    try:
        proposal_id = int(request.match_info["proposal_id"])
        with db(request) as session:
            result = step(session, proposal_id=proposal_id, reviewer=_actor(request), now=now(request))
    except ValueError as error:  # KnowledgeAdminError, or an id that is not a number
        message = sentence(error) if isinstance(error, KnowledgeAdminError) else "Cette modification n'existe pas."
        return _changes_page(request, error=message, status=400)
    if back == "entry":
        raise see_other(_entry_path(result if isinstance(result, str) else result.target_entry_id), notice)
    raise see_other("/knowledge/changes", notice)


async def approve(request: web.Request) -> web.Response:
    return await _decide(request, kb_admin.approve_change, "kb_approved")


async def reject(request: web.Request) -> web.Response:
    return await _decide(request, kb_admin.reject_change, "kb_rejected")


def routes() -> list:
    return [
        web.get("/knowledge", list_page), web.get("/knowledge/changes", changes_page),
        web.get("/knowledge/entries/{entry_id}", entry_page),
        web.get("/knowledge/entries/{entry_id}/edit", edit_page), web.post("/knowledge/entries/{entry_id}/edit", edit),
        web.get("/knowledge/entries/{entry_id}/split", split_page),
        web.post("/knowledge/entries/{entry_id}/split", split),
        web.post("/knowledge/entries/{entry_id}/merge", merge), web.post("/knowledge/entries/{entry_id}/retire", retire),
        web.post("/knowledge/entries/{entry_id}/restore", restore),
        web.post("/knowledge/entries/{entry_id}/review", review),
        web.post("/admin/knowledge/changes/{proposal_id}/approve", approve),
        web.post("/admin/knowledge/changes/{proposal_id}/reject", reject),
    ]
