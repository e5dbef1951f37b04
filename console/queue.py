"""The queue page and its JSON twin polled for the live refresh.

Owns how tickets are listed for counsellors: the workflow's order (urgent
first, then the nearest due time), the filters (status, reason, audience,
topic), the paging (``?page=N``, ``console.queue_page_size`` tickets a page, with
the count of matching tickets and of urgent ones), the time left before each due time; a counsellor of a
school lists that school's tickets only (``orientbot.schools.visible_to``).  The rows are rendered once, by
the same template, for the page and for the JSON the page polls.

Pages are cut by OFFSET, not by a key: a page is "the N-th 50 of the queue as it is now", which the live
refresh shows again every few seconds while tickets are taken and closed, and a counsellor can go to any
page; with the index on the queue's order, a deep page costs a few milliseconds more at 100,000 tickets
(``scripts/bench_console.py``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

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


def page_number(request: web.Request) -> Tuple[int, List[str]]:
    """The page asked for (1 when none), and what was wrong with a bad value."""
    value = request.query.get("page", "").strip()
    if not value:
        return 1, []
    if value.isdecimal() and len(value) <= 9 and int(value) >= 1:  # longer: far past any end, and int() may refuse it
        return int(value), []
    shown = value if len(value) <= 20 else value[:20] + "…"
    return 1, [f"« {shown} » n'est pas un numéro de page : voici la première page."]


def thousands(number: int) -> str:
    """1 234 (French: a narrow no-break space between thousands)."""
    return f"{number:,}".replace(",", "\u202f")


@dataclass(frozen=True)
class QueuePage:
    rows: List[Dict[str, Any]]
    page: int
    pages: int
    first: int  # the position of the page's first ticket in the queue, from 1 (0 when the queue is empty)
    total: int
    urgent: int

    @property
    def summary(self) -> str:
        """"Tickets 51–100 sur 1 234 · 12 urgents"."""
        if not self.total:
            return "Aucun ticket"
        urgent = f"{thousands(self.urgent)} urgent" + ("s" if self.urgent > 1 else "")
        if not self.rows:  # the tickets were taken or closed between the count and the page
            return f"Plus aucun ticket sur cette page, {thousands(self.total)} en tout · {urgent}"
        last = self.first + len(self.rows) - 1
        shown = f"Ticket {thousands(self.first)}" if last == self.first else \
            f"Tickets {thousands(self.first)}–{thousands(last)}"
        return f"{shown} sur {thousands(self.total)} · {urgent}"


def listing(session, chosen: Dict[str, str], *, page: int, size: int, at: datetime,
            school: Optional[str] = None) -> Tuple[QueuePage, List[str]]:
    """One page of the queue with its counts; a page past the end shows the last one, and says so."""
    wanted = dict(statuses=_statuses(chosen.get("status")), reason=chosen.get("reason"),
                  audience=chosen.get("audience"), topic=chosen.get("topic"), school=school)
    counts = workflow.queue_counts(session, **wanted)
    pages = max(1, -(-counts.total // size))
    problems = []
    if page > pages:
        if counts.total == 0:
            problems.append(f"La page {page} n'existe pas (plus) : aucun ticket ne correspond pour l'instant.")
        elif pages == 1:
            problems.append(f"La page {page} n'existe pas (plus) : tout tient sur une seule page, la voici.")
        else:
            problems.append(f"La page {page} n'existe pas (plus) : il n'y en a que {pages}. Voici la dernière.")
        page = pages
    tickets = workflow.queue(session, **wanted, limit=size, offset=(page - 1) * size)
    first = (page - 1) * size + 1 if tickets else 0
    return QueuePage([_row(ticket, at=at) for ticket in tickets], page, pages, first, counts.total,
                     counts.urgent), problems


def _row(ticket: Ticket, *, at: datetime) -> Dict[str, Any]:
    left, kind = time_left(ticket, at=at)
    return {
        "id": ticket.id, "urgent": ticket.priority == "urgent", "status": ticket.status,
        "status_label": STATUS_LABELS[ticket.status], "reason": ticket.reason,
        "reason_label": REASON_LABELS.get(ticket.reason, ticket.reason),
        "audience": ticket.audience, "audience_label": AUDIENCES.get(ticket.audience, ticket.audience),
        "topic": ticket.topic or "", "summary": ticket.summary or ticket.question, "mode": ticket.mode,
        "created": local_time(ticket.created_at), "due": local_time(ticket.due_at),
        "due_at": workflow.as_utc(ticket.due_at).isoformat() if ticket.due_at else None,
        "time_left": left, "time_left_kind": kind,
        "owner": ticket.owner.display_name if ticket.owner else "",
    }


def _page_of(request: web.Request) -> Tuple[Dict[str, str], QueuePage, List[str]]:
    chosen, problems = filters(request)
    page, bad_page = page_number(request)
    size = max(1, request.app[SETTINGS].console.queue_page_size)
    with db(request) as session:
        listed, past_end = listing(session, chosen, page=page, size=size, at=now(request),
                                   school=request["user"].school)
    return chosen, listed, problems + bad_page + past_end


def link(path: str, chosen: Dict[str, str], page: int) -> str:
    """``path`` with the filters kept and ``page`` (left out for the first)."""
    query = urlencode({**chosen, **({"page": page} if page > 1 else {})})
    return f"{path}?{query}" if query else path


async def queue_page(request: web.Request) -> web.Response:
    chosen, listed, problems = _page_of(request)
    school_label = schools.school_name(request["user"].school, request.app[SETTINGS].schools.known)
    return render(request, "queue.html", rows=listed.rows, listed=listed, chosen=chosen, problems=problems,
                  statuses=STATUS_CHOICES, reasons=REASON_LABELS, audiences=AUDIENCES, topics=TOPIC_NAMES,
                  school_label=school_label, refreshed=local_time(now(request), with_day=False),
                  live_url=link("/api/queue", chosen, listed.page),
                  previous_url=link("/queue", chosen, listed.page - 1) if listed.page > 1 else "",
                  next_url=link("/queue", chosen, listed.page + 1) if listed.page < listed.pages else "",
                  first_url=link("/queue", chosen, 1), last_url=link("/queue", chosen, listed.pages))


async def queue_api(request: web.Request) -> web.Response:
    chosen, listed, problems = _page_of(request)
    rows_html = request.app[TEMPLATES].get_template("_queue_rows.html").render(rows=listed.rows)
    return web.json_response({"tickets": listed.rows, "count": len(listed.rows), "total": listed.total,
                              "urgent": listed.urgent, "page": listed.page, "pages": listed.pages,
                              "summary": listed.summary, "problems": problems, "html": rows_html,
                              "refreshed": local_time(now(request), with_day=False)})


def routes() -> list:
    return [web.get("/queue", queue_page), web.get("/api/queue", queue_api)]
