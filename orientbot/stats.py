"""The figures of the console's dashboard.

Owns how the service's activity is counted: escalations per day (local days
of the office-hours time zone) and by reason, the answer rate, the median time
to a counsellor's first reply, the questions the bot could not answer grouped
by topic and by nearest KB entry, and the 👍/👎 given on each KB entry.  The
tickets of the period are counted by the database, in SQL that SQLite and PostgreSQL
read alike (the tickets per quarter of an hour, added up per local day here; the median by its rank), never
loaded as objects: a busy month is tens of thousands of tickets (``scripts/bench_console.py``, 100,000 in the
table: the page in ~150 ms with 17,000 of them in the 30 days, ~280 ms with 42,000; 1 to 2 s when they were
loaded).  The ticket figures are those of the tickets the reader may see (``orientbot.schools.visible_to``);
the 👍/👎 are about the shared KB and are everybody's.
"""
from __future__ import annotations

import heapq
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Integer, and_, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from orientbot import schools
from orientbot.db import Feedback, KBEntry, Ticket
from orientbot.tickets import REASONS

# Reasons that mean the KB had no answer: the questions worth turning into knowledge.
UNANSWERED_REASONS = ("not_understood", "none_of_the_suggestions", "personal_case", "out_of_date")
EXAMPLES_PER_GROUP = 3
QUARTER_HOUR = 900  # seconds


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


def _groups(asked: Dict[Optional[str], Counter], labels: Dict[Optional[str], str], limit: int) -> List[QuestionGroup]:
    """The ``limit`` largest groups of unanswered questions, each with its most asked questions."""
    groups = []
    for key, questions in asked.items():
        examples = tuple(text for text, _ in heapq.nsmallest(
            EXAMPLES_PER_GROUP, ((text, n) for text, n in questions.items() if text), key=lambda item: (-item[1], item[0])))
        groups.append(QuestionGroup(key, labels.get(key, key or ""), sum(questions.values()), examples))
    return sorted(groups, key=lambda group: (-group.count, group.label))[:limit]


class seconds_between(FunctionElement):
    """``seconds_between(later, earlier)``: the seconds from one instant to the other, in SQL."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between(element, compiler, **kw):
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    # SQLite keeps an instant as text: julianday reads it (in days, fractions included).
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


class quarter_hours_since(FunctionElement):
    """``quarter_hours_since(moment, start)``: the whole quarters of an hour from ``start`` to ``moment``, in SQL.

    Every time zone's offset is a whole number of quarters of an hour, so a quarter of an hour lies in one local
    day: grouping by quarter is grouping by local day, without the database knowing the zone.
    """

    type = Integer()
    name = "quarter_hours_since"
    inherit_cache = True


@compiles(quarter_hours_since)
def _quarter_hours_since(element, compiler, **kw):
    moment, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"FLOOR(EXTRACT(EPOCH FROM ({moment} - {start})) / {QUARTER_HOUR})"


@compiles(quarter_hours_since, "sqlite")
def _quarter_hours_since_sqlite(element, compiler, **kw):
    # Whole seconds since 1970 (strftime('%s')), so that a moment on a boundary is not a rounding error away from it.
    moment, start = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((strftime('%s', {moment}) - strftime('%s', {start})) / {QUARTER_HOUR})"


def _median_delay(session: Session, replied, count: int) -> Optional[timedelta]:
    """The median time to a first reply, from the one or two middle values in order."""
    if not count:
        return None
    delay = seconds_between(Ticket.first_reply_at, Ticket.created_at)
    middle = session.execute(replied.with_only_columns(delay).order_by(delay)
                             .offset((count - 1) // 2).limit(2 - count % 2)).scalars().all()
    return timedelta(seconds=round(statistics.mean(float(value) for value in middle)))


def dashboard(session: Session, *, now: datetime, zone: str = "Europe/Paris", days: int = 30, limit: int = 10,
              school: Optional[str] = None) -> Dashboard:
    """The figures; the tickets counted are those a counsellor of ``school`` sees (``schools.visible_to``)."""
    local_zone = ZoneInfo(zone)
    today = now.astimezone(local_zone).date()
    first_day = today - timedelta(days=days - 1)
    since = datetime.combine(first_day, time.min, local_zone).astimezone(timezone.utc)
    period = schools.visible_to(select(Ticket.id).where(Ticket.created_at >= since), school)

    # The counts per reason, read from a covering index on PostgreSQL (orientbot.db), then the tickets per quarter
    # of an hour, added up per local day here (a day of a change of time is 23 or 25 hours long).
    dismissed = and_(Ticket.resolution == "dismissed", Ticket.first_reply_at.is_(None))
    per_reason = session.execute(period.group_by(Ticket.reason).with_only_columns(
        Ticket.reason, func.count(), func.count(Ticket.first_reply_at),
        func.coalesce(func.sum(case((dismissed, 1), else_=0)), 0))).all()
    by_reason = {reason: int(count) for reason, count, _, _ in per_reason}
    answered = sum(int(replied) for _, _, replied, _ in per_reason)
    quarter = quarter_hours_since(Ticket.created_at, since)
    per_day: Counter = Counter()
    for quarters, count in session.execute(period.group_by(quarter).with_only_columns(quarter, func.count())):
        per_day[(since + timedelta(seconds=int(quarters) * QUARTER_HOUR)).astimezone(local_zone).date()] += count

    # One pass over the unanswered questions: how often each was asked, by topic and nearest entry (the first
    # candidate, read from the JSON once).
    unanswered = (period.where(Ticket.reason.in_(UNANSWERED_REASONS))
                  .with_only_columns(Ticket.topic.label("topic"),
                                     Ticket.candidates[(0, "kb_id")].as_string().label("kb_id"), Ticket.question)
                  .subquery())
    by_topic: Dict[Optional[str], Counter] = defaultdict(Counter)
    by_entry: Dict[Optional[str], Counter] = defaultdict(Counter)
    # Core rows (session.connection()): tens of thousands of them, without the ORM's per-row work.
    for topic, kb_id, question, times in session.connection().execute(
            select(unanswered.c.topic, unanswered.c.kb_id, unanswered.c.question, func.count())
            .group_by(unanswered.c.topic, unanswered.c.kb_id, unanswered.c.question)):
        by_topic[topic][question] += times
        by_entry[kb_id][question] += times
    # An entry as the KB names it now (the one a counsellor opens in /knowledge); its id once it is gone.
    entry_titles: Dict[Optional[str], str] = {None: "aucune entrée proche", **{key: key for key in by_entry if key}}
    entry_titles.update(session.execute(select(KBEntry.id, KBEntry.title)
                                        .where(KBEntry.id.in_([key for key in by_entry if key]))).all())

    return Dashboard(
        days=days,
        per_day=[(first_day + timedelta(days=n), per_day[first_day + timedelta(days=n)]) for n in range(days)],
        by_reason=[(reason, by_reason[reason]) for reason in REASONS if by_reason.get(reason)],
        total=sum(by_reason.values()),
        answered=answered,
        dismissed=sum(int(dropped) for _, _, _, dropped in per_reason),
        median_first_reply=_median_delay(session, period.where(Ticket.first_reply_at.is_not(None)), answered),
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
