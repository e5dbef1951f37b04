"""The knowledge base: its read interface, an in-memory one, and the SQL repository.

Owns what a KB entry is for the rest of the code.  Actions depend on the
``KnowledgeBase`` protocol only (tests inject ``InMemoryKnowledgeBase``); the
pipeline writes entries with ``replace_pipeline_entries``; the console's
approved proposals (``orientbot.proposals``) add entries and variants; nothing
else touches the ``kb_*`` tables.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Dict, Iterable, List, Optional, Protocol, Sequence, Tuple

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload

from orientbot.db import KBEntry, KBVariant, session_scope

# Variants approved in the console carry this prefix in ``conversation_id``: a rebuild keeps them.
CONSOLE_VARIANT_PREFIX = "console:"


@dataclass(frozen=True)
class Variant:
    text: str
    conversation_id: Optional[str] = None
    votes: int = 0


@dataclass(frozen=True)
class KnowledgeEntry:
    id: str
    title: str
    answer_eleve: str
    answer_parent: str
    sources: Tuple[str, ...] = ()
    variants: Tuple[Variant, ...] = ()
    times_asked: int = 0
    campaign_year: Optional[int] = None
    valid_until: Optional[date] = None
    origin: str = "pipeline"

    def answer_for(self, audience: str) -> str:
        return self.answer_parent if audience == "parent" else self.answer_eleve

    def is_out_of_date(self, today: date) -> bool:
        return self.valid_until is not None and today > self.valid_until

    @property
    def conversation_ids(self) -> Tuple[str, ...]:
        return tuple(sorted({v.conversation_id for v in self.variants if v.conversation_id}))


class KnowledgeBase(Protocol):
    def get(self, kb_id: str) -> Optional[KnowledgeEntry]: ...

    def entries(self) -> Sequence[KnowledgeEntry]: ...


@dataclass
class InMemoryKnowledgeBase:
    """A knowledge base held in a dict: for tests and for the pipeline's own checks."""

    items: Sequence[KnowledgeEntry] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        self._by_id: Dict[str, KnowledgeEntry] = {entry.id: entry for entry in self.items}

    def get(self, kb_id: str) -> Optional[KnowledgeEntry]:
        return self._by_id.get(kb_id)

    def entries(self) -> Sequence[KnowledgeEntry]:
        return tuple(self._by_id.values())


def _to_entry(row: KBEntry) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=row.id,
        title=row.title,
        answer_eleve=row.answer_eleve,
        answer_parent=row.answer_parent,
        sources=tuple(row.sources or ()),
        variants=tuple(Variant(v.text, v.conversation_id, v.votes) for v in row.variants),
        times_asked=row.times_asked,
        campaign_year=row.campaign_year,
        valid_until=row.valid_until,
        origin=row.origin,
    )


def load_entries(session: Session, *, status: str = "active") -> List[KnowledgeEntry]:
    rows = session.execute(
        select(KBEntry).where(KBEntry.status == status).options(selectinload(KBEntry.variants)).order_by(KBEntry.id)
    ).scalars()
    return [_to_entry(row) for row in rows]


def replace_pipeline_entries(session: Session, *, entries: Iterable[KnowledgeEntry]) -> int:
    """Make the pipeline's entries exactly ``entries``; entries and variants added from the console stay."""
    from_console: Dict[str, List[Variant]] = {}
    for row in session.execute(
        select(KBEntry).where(KBEntry.origin == "pipeline").options(selectinload(KBEntry.variants))
    ).scalars():
        from_console[row.id] = [Variant(v.text, v.conversation_id, v.votes) for v in row.variants
                                if (v.conversation_id or "").startswith(CONSOLE_VARIANT_PREFIX)]
        session.delete(row)
    session.flush()
    count = 0
    for entry in entries:
        kept = [v for v in from_console.get(entry.id, ()) if v not in entry.variants]
        session.add(
            KBEntry(
                id=entry.id,
                title=entry.title,
                answer_eleve=entry.answer_eleve,
                answer_parent=entry.answer_parent,
                sources=list(entry.sources),
                times_asked=entry.times_asked,
                campaign_year=entry.campaign_year,
                valid_until=entry.valid_until,
                origin=entry.origin,
                variants=[KBVariant(text=v.text, conversation_id=v.conversation_id, votes=v.votes)
                          for v in (*entry.variants, *kept)],
            )
        )
        count += 1
    return count


class SqlKnowledgeBase:
    """The active entries of a database, read once and kept in memory (``reload`` to refresh)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._memory: Optional[InMemoryKnowledgeBase] = None

    def reload(self) -> None:
        with session_scope(self._engine) as session:
            self._memory = InMemoryKnowledgeBase(load_entries(session))

    def _loaded(self) -> InMemoryKnowledgeBase:
        if self._memory is None:
            self.reload()
        return self._memory

    def get(self, kb_id: str) -> Optional[KnowledgeEntry]:
        return self._loaded().get(kb_id)

    def entries(self) -> Sequence[KnowledgeEntry]:
        return self._loaded().entries()
