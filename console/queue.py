"""The queue page and its JSON twin polled for the live refresh.

Owns how tickets are listed for counsellors: the workflow's order (urgent
first, then the nearest due time), the filters (status, reason, audience,
topic), the time left before each due time; a counsellor of a school lists that school's tickets only
(``orientbot.schools.visible_to``).  The rows are rendered once, by
the same template, for the page and for the JSON the page polls.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

from console.pages import SETTINGS, TEMPLATES, db, local_time, now, render
from orientbot import schools, workflow
from orientbot.db import Ticket
from orientbot.tickets import REASON_LABELS
from orientbot.topics import TOPIC_NAMES

STATUS_LABELS = {"new": "nouveau", "taken": "pris", "answered": "répondu", "reopened": "rouvert", "closed": "clos"}
AUDIENCES = {"eleve": "élève", "parent": "parent"}
STATUS_CHOICES = {"open": "tous les ouverts", "waiting": "en attente", **STATUS_LABELS}
SOON = timedelta(minutes=30)


def time_left(ticket: Ticket, *, at: datetime) -> Tuple[str, str]:
    """("reste 1 h 20", "soon"): the text and its kind (ok, soon, late, none, done)."""
    if ticket.status == "closed":
        return "—", "done"
    left = workflow.overdue(ticket, now=at)
    if left is None:
        return "pas de délai promis", "none"
    minutes = int(abs(left).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = f"{days} j {hours} h" if days else (f"{hours} h {mins:02d}" if hours else f"{mins} min")
    if left < timedelta(0):
        return f"en retard de {text}", "late"
    return f"reste {text}", "soon" if left <= SOON else "ok"


def filters(request: web.Request) -> Tuple[Dict[str, str], List[str]]:
    """The chosen filters (unknown values are dropped, and said so)."""
    chosen, problems = {}, []
    allowed = {"status": STATUS_CHOICES, "reason": REASON_LABELS, "audience": AUDIENCES,
               "topic": dict.fromkeys(TOPIC_NAMES)}
    for name, values in allowed.items():
        value = request.query.get(name, "")
        if value and value not in values:
            problems.append(f"Le filtre « {name} » a une valeur inconnue : il est ignoré.")
        elif value:
            chosen[name] = value
    return chosen, problems


def _statuses(choice: Optional[str]) -> Tuple[str, ...]:
    if choice in STATUS_LABELS:
        return (choice,)
    return workflow.WAITING_STATUSES if choice == "waiting" else workflow.OPEN_STATUSES


def rows(session, chosen: Dict[str, str], *, at: datetime, school: Optional[str] = None) -> List[Dict[str, Any]]:
    tickets = workflow.queue(session, statuses=_statuses(chosen.get("status")), reason=chosen.get("reason"),
                             audience=chosen.get("audience"), topic=chosen.get("topic"), school=school)
    listed = []
    for ticket in tickets:
        left, kind = time_left(ticket, at=at)
        listed.append({
            "id": ticket.id, "urgent": ticket.priority == "urgent", "status": ticket.status,
            "status_label": STATUS_LABELS[ticket.status], "reason": ticket.reason,
            "reason_label": REASON_LABELS.get(ticket.reason, ticket.reason),
            "audience": ticket.audience, "audience_label": AUDIENCES.get(ticket.audience, ticket.audience),
            "topic": ticket.topic or "", "summary": ticket.summary or ticket.question, "mode": ticket.mode,
            "created": local_time(ticket.created_at), "due": local_time(ticket.due_at),
            "due_at": workflow.as_utc(ticket.due_at).isoformat() if ticket.due_at else None,
            "time_left": left, "time_left_kind": kind,
            "owner": ticket.owner.display_name if ticket.owner else "",
        })
    return listed


async def queue_page(request: web.Request) -> web.Response:
    chosen, problems = filters(request)
    with db(request) as session:
        listed = rows(session, chosen, at=now(request), school=request["user"].school)
    school_label = schools.school_name(request["user"].school, request.app[SETTINGS].schools.known)
    return render(request, "queue.html", rows=listed, chosen=chosen, problems=problems, statuses=STATUS_CHOICES,
                  reasons=REASON_LABELS, audiences=AUDIENCES, topics=TOPIC_NAMES, school_label=school_label,
                  refreshed=local_time(now(request), with_day=False))


async def queue_api(request: web.Request) -> web.Response:
    chosen, problems = filters(request)
    with db(request) as session:
        listed = rows(session, chosen, at=now(request), school=request["user"].school)
    rows_html = request.app[TEMPLATES].get_template("_queue_rows.html").render(rows=listed)
    return web.json_response({"tickets": listed, "count": len(listed), "problems": problems, "html": rows_html,
                              "refreshed": local_time(now(request), with_day=False)})


def routes() -> list:
    return [web.get("/queue", queue_page), web.get("/api/queue", queue_api)]
