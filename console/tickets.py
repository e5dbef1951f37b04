"""The ticket page and the actions on a ticket.

Owns what a counsellor reads and does on one ticket: the handoff packet
(summary, audience, reason, contact and whether the answer reached it, the bot's
candidates with their scores),
the transcript (the bot's conversation before the handoff, then the chat log),
and the actions: take, reply, send a candidate's answer as is or edited,
dismiss, hand back to the bot, reopen.  A refused action shows the rule in
French and keeps what was typed.  A ticket the counsellor may not see (another school's,
``orientbot.schools``) is "not found" on the page and on every action, like an unknown id.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from aiohttp import web

from console.pages import TEMPLATES, db, form, local_time, not_found, now, render, see_other, sentence
from console.queue import AUDIENCES, STATUS_LABELS, time_left
from orientbot import chatlog, schools, workflow
from orientbot.db import Counsellor, Delivery, KBEntry, Ticket, TicketEvent, as_utc
from orientbot.tickets import REASON_LABELS

EVENT_LABELS = {
    "taken": "pris", "reply": "réponse envoyée", "kb_answer": "réponse de la base envoyée",
    "handed_back": "rendu au bot", "dismissed": "ignoré", "reopened": "rouvert",
    "person_wrote": "la personne a écrit", "contact": "moyen de contact donné",
    "delivered_email": "réponse envoyée par e-mail", "delivered_ent": "réponse transmise à la messagerie de l'ENT",
    "delivered_on_call": "alerte envoyée à l'astreinte",
}
DELIVERY_CHANNELS = {"email": "par e-mail", "ent": "par la messagerie de l'ENT", "on_call": "à l'astreinte"}
# What is sent on each channel: the person's answer, or the on-call alert about an urgent ticket.
DELIVERY_WHAT = {"on_call": "Alerte"}
AUTHOR_CLASSES = {"user": "person", "bot": "bot", "counsellor": "counsellor", "system": "system"}
MAX_ID_CHARS = 36


def _moment(value: Any) -> Optional[datetime]:
    """A transcript line's time: Rasa's epoch seconds, or ISO text."""
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            return None


def transcript(session, ticket: Ticket) -> List[Dict[str, Any]]:
    person = "Parent" if ticket.audience == "parent" else "Élève"
    names: Dict[int, str] = {}

    def counsellor_name(counsellor_id: Optional[int]) -> str:
        if counsellor_id not in names:
            account = session.get(Counsellor, counsellor_id) if counsellor_id else None
            names[counsellor_id] = account.display_name if account else "Conseiller"
        return names[counsellor_id]

    lines = [{"css": AUTHOR_CLASSES.get(line.get("from"), "bot"), "author": person if line.get("from") == "user" else "Bot",
              "text": line.get("text") or "", "at": local_time(_moment(line.get("at"))), "before": True}
             for line in ticket.transcript or []]
    for message in chatlog.for_ticket(session, ticket_id=ticket.id, sender_id=ticket.sender_id, since=ticket.created_at):
        text = message.text
        if message.author == "system":
            text = "La conversation a été rendue au bot." if (message.payload or {}).get("kind") == "handed_back" else text
        if not text:
            continue
        author = {"user": person, "bot": "Bot", "system": "Console"}.get(message.author) or counsellor_name(message.counsellor_id)
        lines.append({"css": AUTHOR_CLASSES[message.author], "author": author, "text": text,
                      "at": local_time(message.created_at), "before": False})
    return lines


def candidates(session, ticket: Ticket) -> List[Dict[str, Any]]:
    shown = []
    for candidate in ticket.candidates or []:
        entry = session.get(KBEntry, candidate.get("kb_id") or "")
        shown.append({
            "kb_id": candidate.get("kb_id"), "title": candidate.get("title") or (entry.title if entry else ""),
            "retrieval_score": candidate.get("retrieval_score"), "selector_confidence": candidate.get("selector_confidence"),
            "answer": (entry.answer_parent if ticket.audience == "parent" else entry.answer_eleve) if entry else None,
        })
    return shown


def delivery_line(row: Delivery, *, at: datetime) -> Dict[str, str]:
    """Where the answer sent by e-mail or to the ENT is (``orientbot.delivery``), in one sentence."""
    where = DELIVERY_CHANNELS.get(row.channel, row.channel)
    what = DELIVERY_WHAT.get(row.channel, "Réponse")
    if row.status == "sent":
        return {"kind": "sent", "text": f"{what} envoyée {where} le {local_time(row.sent_at)}"}
    if row.status == "queued":
        return {"kind": "pending", "text": f"En attente d'envoi {where}"}
    if row.status == "sending":
        return {"kind": "pending", "text": f"Envoi {where} en cours"}
    if row.next_attempt_at is not None:
        retry = as_utc(row.next_attempt_at)
        same_day = local_time(retry)[:9] == local_time(at)[:9]
        when = f"à {local_time(retry, with_day=False)}" if same_day else f"le {local_time(retry)}"
        return {"kind": "pending", "text": f"En attente d'envoi {where} (nouvel essai {when} ; dernier essai : {row.reason})"}
    return {"kind": "failed", "text": f"Échec : {row.reason}"}


def load_visible(request: web.Request, session, ticket_id: str) -> Optional[Ticket]:
    """The ticket, or None when it does not exist or is another school's: both are 404, revealing nothing."""
    ticket = session.get(Ticket, ticket_id) if len(ticket_id) <= MAX_ID_CHARS else None
    if ticket is None or not schools.ticket_visible(ticket.school, request["user"].school):
        return None
    return ticket


def ticket_view(request: web.Request, ticket_id: str, *, error: str = "", draft: Optional[str] = None,
                status: int = 200) -> web.Response:
    with db(request) as session:
        ticket = load_visible(request, session, ticket_id)
        if ticket is None:
            return not_found(request, "Ce ticket n'existe pas (ou plus à cette adresse).")
        shown = candidates(session, ticket)
        draft_kb = ""
        if draft is None:  # "Envoyer modifiée": the candidate's answer, ready to edit
            chosen = next((c for c in shown if c["kb_id"] == request.query.get("draft") and c["answer"]), None)
            draft, draft_kb = (chosen["answer"], chosen["kb_id"]) if chosen else ("", "")
        events = session.query(TicketEvent).filter(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id).all()
        names = {c.id: c.display_name for c in session.query(Counsellor).all()}
        left, left_kind = time_left(ticket, at=now(request))
        sendings = session.query(Delivery).filter(Delivery.ticket_id == ticket.id).order_by(Delivery.id).all()
        return render(
            request, "ticket.html", status=status, ticket=ticket, error=error, draft=draft, draft_kb=draft_kb,
            lines=transcript(session, ticket), candidates=shown, owner=ticket.owner.display_name if ticket.owner else "",
            mine=ticket.owner_id == request["user"].id, status_label=STATUS_LABELS[ticket.status],
            reason_label=REASON_LABELS.get(ticket.reason, ticket.reason), audience_label=AUDIENCES.get(ticket.audience, ""),
            time_left=left, time_left_kind=left_kind, max_chars=chatlog.MAX_MESSAGE_CHARS,
            deliveries=[delivery_line(row, at=now(request)) for row in sendings],
            events=[{"at": local_time(e.at), "label": EVENT_LABELS.get(e.kind, e.kind), "who": names.get(e.counsellor_id, "")}
                    for e in events],
        )


async def ticket_page(request: web.Request) -> web.Response:
    return ticket_view(request, request.match_info["ticket_id"])


async def ticket_transcript(request: web.Request) -> web.Response:
    """The transcript alone, polled by the ticket page to show the person's new messages."""
    with db(request) as session:
        ticket = load_visible(request, session, request.match_info["ticket_id"])
        if ticket is None:
            return not_found(request, "Ce ticket n'existe pas.")
        html = request.app[TEMPLATES].get_template("_transcript.html").render(lines=transcript(session, ticket))
        return web.json_response({"status": ticket.status, "html": html})


async def _act(request: web.Request, step, notice: str, *, draft: Optional[str] = None) -> web.Response:
    """Run one workflow step on the ticket; a refusal re-renders the page with the reason and the draft."""
    ticket_id = request.match_info["ticket_id"]
    try:
        with db(request) as session:
            if load_visible(request, session, ticket_id) is None:
                return not_found(request, "Ce ticket n'existe pas (ou plus à cette adresse).")
            step(session, ticket_id=ticket_id, counsellor_id=request["user"].id, now=now(request))
    except workflow.WorkflowError as error:
        return ticket_view(request, ticket_id, error=sentence(error), draft=draft, status=409)
    raise see_other(f"/tickets/{ticket_id}", notice)


async def take(request: web.Request) -> web.Response:
    return await _act(request, workflow.take, "taken")


async def dismiss(request: web.Request) -> web.Response:
    return await _act(request, lambda session, **kw: workflow.close(session, resolution="dismissed", **kw), "dismissed")


async def hand_back(request: web.Request) -> web.Response:
    return await _act(request, lambda session, **kw: workflow.close(session, resolution="handed_back", **kw), "handed_back")


async def reopen(request: web.Request) -> web.Response:
    return await _act(request, workflow.reopen, "reopened")


async def reply(request: web.Request) -> web.Response:
    """Send the typed text, or (``kb_id`` without text) a candidate's answer in the audience's form."""
    fields = await form(request)
    ticket_id, text, kb_id = request.match_info["ticket_id"], fields.get("text", "").strip(), fields.get("kb_id") or None
    if kb_id and not text:
        with db(request) as session:
            ticket, entry = load_visible(request, session, ticket_id), session.get(KBEntry, kb_id[:120])
            if ticket is not None and entry is not None:
                text = entry.answer_parent if ticket.audience == "parent" else entry.answer_eleve
        if not text:
            return ticket_view(request, ticket_id, error="Cette réponse de la base n'existe plus : écrivez la vôtre.", status=400)
    if not text:
        return ticket_view(request, ticket_id, error="La réponse est vide : écrivez quelques mots avant d'envoyer.", draft="", status=400)
    if len(text) > chatlog.MAX_MESSAGE_CHARS:
        return ticket_view(request, ticket_id, draft=text, status=400, error=(
            f"La réponse fait {len(text)} caractères, {chatlog.MAX_MESSAGE_CHARS} au plus : raccourcissez-la ou "
            "envoyez-la en plusieurs fois (votre texte est conservé ci-dessous)."))
    kind = "kb_answer" if kb_id and fields.get("as_is") == "1" else "reply"
    return await _act(
        request, lambda session, **kw: workflow.reply(session, text=text, kind=kind, kb_id=kb_id, **kw), "sent", draft=text)


def routes() -> list:
    base = "/tickets/{ticket_id}"
    return [
        web.get(base, ticket_page), web.get("/api" + base + "/transcript", ticket_transcript),
        web.post(base + "/take", take), web.post(base + "/reply", reply), web.post(base + "/dismiss", dismiss),
        web.post(base + "/hand-back", hand_back), web.post(base + "/reopen", reopen),
    ]
