"""Turning a counsellor's answer into knowledge: the proposal form and the admins' review.

Owns the console's side of ``orientbot.proposals``: the form prefilled from a
ticket (the person's questions, the counsellor's last answer, the existing
entries the questions are closest to), the pipeline's anonymiser applied to
everything typed, and the review page where an admin approves or rejects.  The
action server reloads the KB every few seconds, so an approved entry reaches
the bot's answers without a rebuild.  A proposal made from a ticket is listed and reviewed only by the
admins who may see that ticket (``orientbot.schools``).
"""
from __future__ import annotations

from typing import List

from aiohttp import web
from sqlalchemy import select

from console.pages import db, form, not_found, now, render, see_other, sentence
from console.tickets import load_visible
from knowledge.anonymise import anonymise_text
from orientbot import proposals
from orientbot.db import ChatMessage, Counsellor, KBEntry, KBProposal, Ticket

# Above this retrieval score the questions are most likely a rewording of the entry: attach them by default.
ATTACH_BY_DEFAULT = 0.45


def _questions(session, ticket: Ticket) -> List[str]:
    """What the person asked: the handoff question, then what they wrote to the counsellor."""
    asked = [ticket.question] + list(session.execute(
        select(ChatMessage.text).where(ChatMessage.ticket_id == ticket.id, ChatMessage.author == "user")
        .order_by(ChatMessage.id)).scalars())
    return list(dict.fromkeys(q.strip() for q in asked if q and q.strip()))


def _last_answer(session, ticket: Ticket) -> str:
    return session.execute(
        select(ChatMessage.text).where(ChatMessage.ticket_id == ticket.id, ChatMessage.author == "counsellor")
        .order_by(ChatMessage.id.desc()).limit(1)).scalars().first() or ""


def _suggestions(session, questions: List[str]) -> List[dict]:
    matches = proposals.suggest_targets(session, questions=questions) if questions else []
    return [{"kb_id": m.kb_id, "score": m.score, "title": session.get(KBEntry, m.kb_id).title} for m in matches]


def _form_page(request: web.Request, ticket_id: str, *, values: dict = None, error: str = "", status: int = 200):
    with db(request) as session:
        ticket = load_visible(request, session, ticket_id)
        if ticket is None:
            return not_found(request, "Ce ticket n'existe pas (ou plus à cette adresse).")
        if values is None:
            answer = _last_answer(session, ticket)
            questions = _questions(session, ticket)
            suggestions = _suggestions(session, questions)
            attach = suggestions[0]["kb_id"] if suggestions and suggestions[0]["score"] >= ATTACH_BY_DEFAULT else ""
            values = {"questions": "\n".join(questions), "title": ticket.question[:200], "answer_eleve": answer,
                      "answer_parent": answer, "target": attach, "sources": ""}
        else:
            suggestions = _suggestions(session, values["questions"].splitlines())
        return render(request, "propose.html", status=status, ticket=ticket, values=values, suggestions=suggestions,
                      error=error)


async def propose_page(request: web.Request) -> web.Response:
    return _form_page(request, request.match_info["ticket_id"])


async def propose(request: web.Request) -> web.Response:
    ticket_id = request.match_info["ticket_id"]
    fields = await form(request)
    values = {key: fields.get(key, "") for key in ("questions", "title", "answer_eleve", "answer_parent", "target", "sources")}
    try:
        with db(request) as session:
            if load_visible(request, session, ticket_id) is None:
                return not_found(request, "Ce ticket n'existe pas (ou plus à cette adresse).")
            proposals.propose(
                session, proposed_by=request["user"].id, ticket_id=ticket_id, title=values["title"],
                questions=values["questions"].splitlines(), answer_eleve=values["answer_eleve"],
                answer_parent=values["answer_parent"], target_entry_id=values["target"][:120] or None,
                sources=values["sources"].split(), anonymise=anonymise_text, now=now(request),
            )
    except proposals.ProposalError as error:
        return _form_page(request, ticket_id, values=values, error=sentence(error), status=400)
    raise see_other(f"/tickets/{ticket_id}", "proposed")


def _proposal_visible(request: web.Request, session, proposal: KBProposal) -> bool:
    """A proposal made from a ticket is reviewed by those who may see that ticket (``orientbot.schools``)."""
    return proposal.ticket_id is None or load_visible(request, session, proposal.ticket_id) is not None


def _review_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    with db(request) as session:
        names = {c.id: c.display_name for c in session.execute(select(Counsellor)).scalars()}
        titles = dict(session.execute(select(KBEntry.id, KBEntry.title)).all())
        listed = [p for p in proposals.proposals(session) if _proposal_visible(request, session, p)]
        return render(request, "proposals.html", status=status, error=error, names=names, titles=titles,
                      pending=[p for p in listed if p.status == "proposed"],
                      reviewed=[p for p in listed if p.status != "proposed"][:20])


async def review_page(request: web.Request) -> web.Response:
    return _review_page(request)


async def _review(request: web.Request, step, notice: str) -> web.Response:
    try:
        proposal_id = int(request.match_info["proposal_id"])
        with db(request) as session:
            proposal = session.get(KBProposal, proposal_id)
            if proposal is not None and not _proposal_visible(request, session, proposal):
                raise ValueError("another school's proposal: not found")
            step(session, proposal_id=proposal_id, reviewer_id=request["user"].id, now=now(request))
    except ValueError as error:  # ProposalError, or an id that is not a number
        message = sentence(error) if isinstance(error, proposals.ProposalError) else "Cette proposition n'existe pas."
        return _review_page(request, error=message, status=400)
    raise see_other("/admin/proposals", notice)


async def approve(request: web.Request) -> web.Response:
    return await _review(request, proposals.approve, "approved")


async def reject(request: web.Request) -> web.Response:
    return await _review(request, proposals.reject, "rejected")


def routes() -> list:
    return [
        web.get("/tickets/{ticket_id}/propose", propose_page), web.post("/tickets/{ticket_id}/propose", propose),
        web.get("/admin/proposals", review_page),
        web.post("/admin/proposals/{proposal_id}/approve", approve), web.post("/admin/proposals/{proposal_id}/reject", reject),
    ]
