"""The dashboard page: the service's last 30 days at a glance.

Owns the presentation of ``orientbot.stats``: escalations per day and by
reason, answer rate, median time to a first reply, the unanswered questions
grouped by topic and by nearest KB entry, and the 👍/👎 per entry, each as a
chart and a table.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Optional

from aiohttp import web

from console import charts
from console.pages import db, now, render, zone
from orientbot import stats
from orientbot.tickets import REASON_LABELS


def duration(delta: Optional[timedelta]) -> str:
    if delta is None:
        return "—"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d}" if hours < 48 else f"{hours // 24} j {hours % 24} h"


async def dashboard_page(request: web.Request) -> web.Response:
    with db(request) as session:
        figures = stats.dashboard(session, now=now(request), zone=zone(), school=request["user"].school)
    per_day = [(f"{day:%d/%m}", count) for day, count in figures.per_day]
    by_reason = [(REASON_LABELS.get(reason, reason), count) for reason, count in figures.by_reason]
    return render(
        request, "dashboard.html", figures=figures, per_day=per_day, by_reason=by_reason,
        rate=None if figures.answer_rate is None else round(100 * figures.answer_rate),
        median=duration(figures.median_first_reply),
        per_day_chart=charts.columns(per_day, title=f"Escalades par jour, {figures.days} derniers jours"),
        reason_chart=charts.bars([(label, (count,)) for label, count in by_reason], title="Escalades par motif"),
        topic_chart=charts.bars([(g.label, (g.count,)) for g in figures.unanswered_by_topic],
                                title="Questions sans réponse, par thème", width=720),
        feedback_chart=charts.bars([(f.title, (f.up, f.down)) for f in figures.feedback],
                                   title="Avis sur les réponses du bot : utile, pas utile", series=("up", "down")),
    )


def routes() -> list:
    return [web.get("/dashboard", dashboard_page)]
