"""The knowledge base: its read interface, an in-memory one, and the SQL repository.

Owns what a KB entry is for the rest of the code.  Actions depend on the
``KnowledgeBase`` protocol only (tests inject ``InMemoryKnowledgeBase``); the
pipeline writes entries with ``replace_pipeline_entries`` (keeping what
counsellors decided in the console); the console's approved proposals
(``orientbot.proposals``) add entries and variants, and its knowledge pages
(``orientbot.kb_admin``) edit, merge, split, retire and review them; nothing
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
    title_parent: str = ""
    # "active" entries are served; "review" ones wait for a counsellor (``orientbot.db.KBEntry.status``).
    status: str = "active"
    review_reasons: Tuple[str, ...] = ()
    edited: bool = False

    def title_for(self, audience: str) -> str:
        return (self.title_parent or self.title) if audience == "parent" else self.title

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
        title_parent=row.title_parent or "",
        status=row.status,
        review_reasons=tuple(row.review_reasons or ()),
        edited=bool(row.edited),
    )


def load_entries(session: Session, *, status: str = "active") -> List[KnowledgeEntry]:
    rows = session.execute(
        select(KBEntry).where(KBEntry.status == status).options(selectinload(KBEntry.variants)).order_by(KBEntry.id)
    ).scalars()
    return [_to_entry(row) for row in rows]


# What counsellors decide about an entry in the console (``orientbot.kb_admin``) and a rebuild keeps when they
# edited it: everything but the variants and ``times_asked``, which the pipeline refreshes.
_COUNSELLOR_FIELDS = ("title", "title_parent", "answer_eleve", "answer_parent", "sources", "valid_until",
                      "campaign_year", "status", "review_reasons", "merged_into")
# Longest chain of merges followed (B merged into A, A later merged into C…): guards against a cycle.
_MAX_MERGE_CHAIN = 20


def _is_console_variant(variant) -> bool:
    return (variant.conversation_id or "").startswith(CONSOLE_VARIANT_PREFIX)


def _pipeline_values(entry: KnowledgeEntry) -> dict:
    return {"id": entry.id, "title": entry.title, "title_parent": entry.title_parent,
            "answer_eleve": entry.answer_eleve, "answer_parent": entry.answer_parent, "sources": list(entry.sources),
            "times_asked": entry.times_asked, "campaign_year": entry.campaign_year, "valid_until": entry.valid_until,
            "origin": entry.origin, "status": entry.status, "review_reasons": list(entry.review_reasons),
            "merged_into": None}


def _previous_values(row: KBEntry) -> dict:
    return {**{name: getattr(row, name) for name in _COUNSELLOR_FIELDS}, "edited": bool(row.edited),
            "reviewed_by": row.reviewed_by, "reviewed_at": row.reviewed_at, "created_at": row.created_at,
            "review_reasons": list(row.review_reasons or ())}


def _kept_decisions(fresh: dict, previous: Optional[dict]) -> dict:
    """The values to write for a pipeline entry, given what counsellors had decided about the same id."""
    if previous is None:
        return fresh
    values = {**fresh, "reviewed_by": previous["reviewed_by"], "reviewed_at": previous["reviewed_at"],
              "created_at": previous["created_at"]}
    if previous["edited"]:
        return {**values, **{name: previous[name] for name in _COUNSELLOR_FIELDS}, "edited": True}
    if previous["status"] == "merged":
        values.update(status="merged", merged_into=previous["merged_into"])
    elif previous["status"] == "retired":
        values["status"] = "retired"
    elif (previous["reviewed_at"] is not None and not previous["review_reasons"]
          and (fresh["answer_eleve"], fresh["answer_parent"]) == (previous["answer_eleve"], previous["answer_parent"])):
        # A counsellor read these very answers: the pipeline's doubts about them were already answered.
        values.update(status="active" if fresh["status"] == "review" else fresh["status"], review_reasons=[])
    return values


def _final_target(entry_id: str, merged_into: Dict[str, str]) -> Optional[str]:
    """Where the questions of a merged entry go: the end of its chain of merges, None for a cycle."""
    seen = {entry_id}
    target = merged_into.get(entry_id)
    for _ in range(_MAX_MERGE_CHAIN):
        if target is None or target in seen:
            return None
        if target not in merged_into:
            return target
        seen.add(target)
        target = merged_into[target]
    return None


def replace_pipeline_entries(session: Session, *, entries: Iterable[KnowledgeEntry]) -> int:
    """Make the pipeline's entries ``entries``, keeping what counsellors did in the console.

    Entries and variants added from the console stay.  For an id the pipeline writes again, only its variants and
    ``times_asked`` are refreshed when counsellors edited it; a retired entry stays retired; a merged entry stays
    merged and its questions go to the entry it was merged into; an entry reviewed since its last doubts stays
    reviewed while its answers are the same.  A question a counsellor placed in an entry (a split, a proposal) is
    not put back elsewhere, and an edited entry the pipeline no longer makes is kept rather than losing the
    counsellors' work.
    """
    entries = list(entries)
    fresh_ids = {entry.id for entry in entries}
    previous: Dict[str, dict] = {}
    from_console: Dict[str, List[Variant]] = {}
    for row in session.execute(
        select(KBEntry).where(KBEntry.origin == "pipeline").options(selectinload(KBEntry.variants))
    ).scalars():
        if row.edited and row.id not in fresh_ids and row.status != "merged":
            continue
        previous[row.id] = _previous_values(row)
        from_console[row.id] = [Variant(v.text, v.conversation_id, v.votes) for v in row.variants
                                if _is_console_variant(v)]
        session.delete(row)
    session.flush()

    staying = {row.id: row for row in session.execute(
        select(KBEntry).options(selectinload(KBEntry.variants))).scalars()}
    planned = {entry.id: _kept_decisions(_pipeline_values(entry), previous.get(entry.id)) for entry in entries}
    merged_into = {entry_id: values["merged_into"] for entry_id, values in {
        **{row.id: {"status": row.status, "merged_into": row.merged_into} for row in staying.values()},
        **planned}.items() if values["status"] == "merged" and values["merged_into"]}

    # Where each question a counsellor placed now is: the pipeline does not put it back in another entry.
    placed: Dict[str, set] = {}
    for row in staying.values():
        for variant in row.variants:
            if _is_console_variant(variant):
                placed.setdefault(variant.text, set()).add(row.id)
    for entry_id in fresh_ids:
        for variant in from_console.get(entry_id, ()):
            placed.setdefault(variant.text, set()).add(entry_id)

    moved: Dict[str, List[Variant]] = {}
    moved_asked: Dict[str, int] = {}
    for entry in entries:
        values = planned[entry.id]
        if values["status"] != "merged":
            continue
        target = _final_target(entry.id, merged_into)
        if target is None or (target not in planned and target not in staying):
            # What it was merged into is gone: its questions must not go unanswered.
            fresh = _pipeline_values(entry)
            values.update(status=fresh["status"], merged_into=None)
            continue
        moved.setdefault(target, []).extend(entry.variants)
        moved_asked[target] = moved_asked.get(target, 0) + entry.times_asked

    def _unplaced(entry_id: str, variants: Iterable[Variant]) -> List[Variant]:
        return [v for v in variants if entry_id in placed.get(v.text, {entry_id})]

    count = 0
    for entry in entries:
        values = planned[entry.id]
        own = () if values["status"] == "merged" else entry.variants
        variants = _distinct([*_unplaced(entry.id, (*own, *moved.get(entry.id, ()))), *from_console.get(entry.id, ())])
        values["times_asked"] = values["times_asked"] + moved_asked.get(entry.id, 0)
        session.add(KBEntry(**values, variants=[
            KBVariant(text=v.text, conversation_id=v.conversation_id, votes=v.votes) for v in variants]))
        count += 1
    for target, variants in moved.items():
        row = staying.get(target)
        if row is None:
            continue
        present = {variant.text for variant in row.variants}
        for variant in _distinct(_unplaced(target, variants)):
            if variant.text not in present:
                row.variants.append(KBVariant(text=variant.text, conversation_id=variant.conversation_id,
                                              votes=variant.votes))
    return count


def _distinct(variants: Iterable[Variant]) -> List[Variant]:
    """The first variant of each text."""
    seen: set = set()
    kept = []
    for variant in variants:
        if variant.text not in seen:
            seen.add(variant.text)
            kept.append(variant)
    return kept


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
