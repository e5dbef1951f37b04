"""The figures of the console's dashboard.

Owns how the service's activity is counted: escalations per day (local days
of the office-hours time zone) and by reason, the answer rate, the median time
to a counsellor's first reply, the questions the bot could not answer grouped
by topic and by nearest KB entry, and the 👍/👎 given on each KB entry.  Tickets
of the period are read once and counted in Python, so that SQLite and
PostgreSQL give the same figures.  The ticket figures are those of the tickets the reader may see
(``orientbot.schools.visible_to``); the 👍/👎 are about the shared KB and are everybody's.
"""
from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from orientbot import schools
from orientbot.db import Feedback, KBEntry, Ticket, as_utc
from orientbot.tickets import REASONS

# Reasons that mean the KB had no answer: the questions worth turning into knowledge.
UNANSWERED_REASONS = ("not_understood", "none_of_the_suggestions", "personal_case", "out_of_date")
EXAMPLES_PER_GROUP = 3


@dataclass(frozen=True)
class QuestionGroup:
    key: Optional[str]  # topic name or KB entry id; None: no topic / no candidate
    label: str
    count: int
    examples: Tuple[str, ...]


@dataclass(frozen=True)
class EntryFeedback:
    kb_id: str
    title: str
    up: int
    down: int


@dataclass(frozen=True)
class Dashboard:
    days: int
    per_day: List[Tuple[date, int]]
    by_reason: List[Tuple[str, int]]
    total: int
    answered: int
    dismissed: int
    median_first_reply: Optional[timedelta]
    unanswered_by_topic: List[QuestionGroup]
    unanswered_by_entry: List[QuestionGroup]
    feedback: List[EntryFeedback]

    @property
    def answer_rate(self) -> Optional[float]:
        """Share of the tickets needing an answer (all but the dismissed ones) that got a counsellor's reply."""
        needing = self.total - self.dismissed
        return self.answered / needing if needing else None


def _groups(items: Dict[Optional[str], List[str]], labels: Dict[Optional[str], str], limit: int) -> List[QuestionGroup]:
    groups = []
    for key, questions in items.items():
        examples = [text for text, _ in Counter(q for q in questions if q).most_common(EXAMPLES_PER_GROUP)]
        groups.append(QuestionGroup(key, labels.get(key, key or ""), len(questions), tuple(examples)))
    return sorted(groups, key=lambda group: (-group.count, group.label))[:limit]


def dashboard(session: Session, *, now: datetime, zone: str = "Europe/Paris", days: int = 30, limit: int = 10,
              school: Optional[str] = None) -> Dashboard:
    """The figures; the tickets counted are those a counsellor of ``school`` sees (``schools.visible_to``)."""
    local_zone = ZoneInfo(zone)
    today = now.astimezone(local_zone).date()
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, datetime.min.time(), local_zone)
    tickets = list(session.execute(schools.visible_to(select(Ticket).where(Ticket.created_at >= since), school)).scalars())

    per_day = Counter(as_utc(t.created_at).astimezone(local_zone).date() for t in tickets)
    by_reason = Counter(t.reason for t in tickets)
    delays = [as_utc(t.first_reply_at) - as_utc(t.created_at) for t in tickets if t.first_reply_at is not None]

    by_topic: Dict[Optional[str], List[str]] = defaultdict(list)
    by_entry: Dict[Optional[str], List[str]] = defaultdict(list)
    entry_titles: Dict[Optional[str], str] = {None: "aucune entrée proche"}
    for ticket in tickets:
        if ticket.reason not in UNANSWERED_REASONS:
            continue
        by_topic[ticket.topic].append(ticket.question)
        nearest = (ticket.candidates or [{}])[0]
        by_entry[nearest.get("kb_id")].append(ticket.question)
        if nearest.get("kb_id"):
            entry_titles.setdefault(nearest["kb_id"], nearest.get("title") or nearest["kb_id"])

    return Dashboard(
        days=days,
        per_day=[(first_day + timedelta(days=n), per_day.get(first_day + timedelta(days=n), 0)) for n in range(days)],
        by_reason=[(reason, by_reason[reason]) for reason in REASONS if by_reason[reason]],
        total=len(tickets),
        answered=sum(1 for t in tickets if t.first_reply_at is not None),
        dismissed=sum(1 for t in tickets if t.resolution == "dismissed" and t.first_reply_at is None),
        median_first_reply=statistics.median(delays) if delays else None,
        unanswered_by_topic=_groups(by_topic, {None: "sans thème reconnu"}, limit),
        unanswered_by_entry=_groups(by_entry, entry_titles, limit),
        feedback=feedback_by_entry(session, limit=limit),
    )


def feedback_by_entry(session: Session, *, limit: int = 10) -> List[EntryFeedback]:
    """👍 and 👎 per KB entry, the most rated first."""
    up = func.sum(case((Feedback.value > 0, 1), else_=0))
    down = func.sum(case((Feedback.value < 0, 1), else_=0))
    rows = session.execute(
        select(Feedback.kb_id, KBEntry.title, up, down)
        .join(KBEntry, KBEntry.id == Feedback.kb_id, isouter=True)
        .where(Feedback.kb_id.is_not(None))
        .group_by(Feedback.kb_id, KBEntry.title)
        .order_by(func.count(Feedback.id).desc(), Feedback.kb_id)
        .limit(limit)
    ).all()
    return [EntryFeedback(kb_id, title or kb_id, int(u or 0), int(d or 0)) for kb_id, title, u, d in rows]
