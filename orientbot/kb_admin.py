"""Counsellors' stewardship of the knowledge base: edits, merges, splits, retirements, reviews, and their history.

Owns what a counsellor may change in a KB entry from the console and how it is
kept: an admin's change applies at once; a counsellor's is stored as a pending
``KBProposal`` (``kind`` the action, ``payload`` what it changes) that an admin
approves (it then applies) or rejects.  Every applied change writes a
``KBEntryVersion`` per entry it touches (who, when, the entry before and after),
marks what a rebuild must keep (``edited``, statuses, ``merged_into``,
questions moved with the ``console:`` prefix: see
``orientbot.kb.replace_pipeline_entries``) and bumps ``updated_at`` or the count
of active entries, so that the action server reloads the KB within seconds.

Also owns the reading side the knowledge pages need: the entries with their
topic, how often the bot served them (bot messages of the chat log carrying
``answer.kb_id``) and their feedback.  Everything a counsellor types goes
through the ``anonymise`` function the caller passes (the pipeline's
anonymiser: the core does not import the pipeline).
"""
from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from orientbot.db import ChatMessage, Feedback, KBEntry, KBEntryVersion, KBProposal, KBVariant
from orientbot.kb import CONSOLE_VARIANT_PREFIX
from orientbot.normalise import fold_accents, normalise
from orientbot.proposals import MAX_ANSWER_CHARS, MAX_TITLE_CHARS
from orientbot.topics import topic_of

MAX_SOURCES = 10
MAX_SOURCE_CHARS = 500
# The knowledge page lists at most this many entries (search or filter to narrow it).
MAX_LISTED = 300
# Questions moved to a new entry by a split carry this mark: a rebuild leaves them where the counsellor put them.
SPLIT_MARK = f"{CONSOLE_VARIANT_PREFIX}split:"

ACTION_LABELS = {
    "edit": "Modification",
    "merge": "Fusion d'un doublon",
    "merged": "Fusionnée dans une autre entrée",
    "split": "Séparation",
    "split_from": "Créée par séparation",
    "retire": "Retrait",
    "restore": "Remise en service",
    "review": "Relecture",
}
STATUS_LABELS = {"active": "en service", "review": "à relire", "retired": "retirée", "merged": "fusionnée"}
# The kinds of pending change a counsellor may propose (``KBProposal.kind``); "knowledge" is ``orientbot.proposals``.
CHANGE_KINDS = ("edit", "merge", "split", "retire", "restore", "review")
EDITABLE_FIELDS = ("title", "title_parent", "answer_eleve", "answer_parent", "sources", "valid_until")


class KnowledgeAdminError(ValueError):
    """A refused change or review; the message is French and can be shown as is."""


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: an admin's change applies at once, a counsellor's waits for an admin."""

    id: int
    is_admin: bool


@dataclass(frozen=True)
class Change:
    """What became of a requested change: applied (``entry_id`` is where to look now) or pending (``proposal``)."""

    applied: bool
    entry_id: str
    proposal: Optional[KBProposal] = None


# ---------------------------------------------------------------------------------------------------- snapshots


def snapshot(entry: KBEntry) -> dict:
    """The entry as JSON, for its history: what a counsellor can see and change."""
    return {
        "title": entry.title, "title_parent": entry.title_parent or "", "answer_eleve": entry.answer_eleve,
        "answer_parent": entry.answer_parent, "sources": list(entry.sources or ()),
        "valid_until": entry.valid_until.isoformat() if entry.valid_until else None, "status": entry.status,
        "review_reasons": list(entry.review_reasons or ()), "merged_into": entry.merged_into,
        "questions": [variant.text for variant in entry.variants],
    }


def changed_fields(version: KBEntryVersion) -> List[Tuple[str, object, object]]:
    """(field, before, after) for what a version changed; a creation lists every field."""
    before, after = version.before or {}, version.after or {}
    return [(name, before.get(name), after.get(name)) for name in after if before.get(name) != after.get(name)]


def _record(session: Session, entry: KBEntry, *, action: str, before: Optional[dict], by: int, now: datetime,
            approved_by: Optional[int] = None, proposal_id: Optional[int] = None) -> None:
    session.flush()
    session.expire(entry, ["variants"])
    session.add(KBEntryVersion(entry_id=entry.id, counsellor_id=by, approved_by=approved_by, proposal_id=proposal_id,
                               at=now, action=action, before=before, after=snapshot(entry)))


def history(session: Session, entry_id: str) -> List[KBEntryVersion]:
    """The entry's versions, newest first."""
    return list(session.execute(select(KBEntryVersion).where(KBEntryVersion.entry_id == entry_id)
                                .order_by(KBEntryVersion.at.desc(), KBEntryVersion.id.desc())).scalars())


# ---------------------------------------------------------------------------------------------------- validation


def _clean(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in (text or "").strip().splitlines()).strip()


def _entry(session: Session, entry_id: str) -> KBEntry:
    entry = session.get(KBEntry, (entry_id or "")[:120])
    if entry is None:
        raise KnowledgeAdminError("cette entrée n'existe pas (ou plus)")
    return entry


def _not_merged(entry: KBEntry) -> None:
    if entry.status == "merged":
        raise KnowledgeAdminError(
            f"cette entrée a été fusionnée dans « {entry.merged_into} » : c'est celle-ci qu'il faut modifier")


def _sources(sources: Sequence[str], anonymise: Callable[[str], str]) -> List[str]:
    cleaned = [source.strip() for source in sources if source.strip()]
    if len(cleaned) > MAX_SOURCES or any(len(source) > MAX_SOURCE_CHARS for source in cleaned):
        raise KnowledgeAdminError(f"{MAX_SOURCES} sources au plus, de {MAX_SOURCE_CHARS} caractères au plus chacune")
    # Shown as links to families: only web addresses, never "javascript:" or a file.
    if any(not re.match(r"https?://[^\s<>\"']+$", source) for source in cleaned):
        raise KnowledgeAdminError("une source doit être une adresse web complète, commençant par https://")
    # A link is refused rather than cut short by the anonymiser: half an address would lead families nowhere.
    if any(anonymise(source) != source for source in cleaned):
        raise KnowledgeAdminError("une source contient des données personnelles (nom, e-mail, lien de suivi…) : "
                                  "donnez l'adresse publique de la page")
    return list(dict.fromkeys(cleaned))


def _valid_until(value) -> Optional[str]:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise KnowledgeAdminError("la date de validité n'est pas valide : écrivez-la sous la forme AAAA-MM-JJ") from None


def _answers(answer_eleve: str, answer_parent: str, anonymise: Callable[[str], str]) -> Tuple[str, str]:
    answers = tuple(anonymise((answer or "").strip()) for answer in (answer_eleve, answer_parent))
    if not all(answers):
        raise KnowledgeAdminError("il faut une réponse pour les élèves et une pour les parents")
    if any(len(answer) > MAX_ANSWER_CHARS for answer in answers):
        raise KnowledgeAdminError(f"une réponse fait {MAX_ANSWER_CHARS} caractères au plus")
    return answers


def _titles(title: str, title_parent: str, anonymise: Callable[[str], str]) -> Tuple[str, str]:
    title, title_parent = (anonymise(_clean(text)) for text in (title, title_parent))
    if not title:
        raise KnowledgeAdminError("il faut un titre : la question telle qu'un élève la poserait")
    if len(title) > MAX_TITLE_CHARS or len(title_parent) > MAX_TITLE_CHARS:
        raise KnowledgeAdminError(f"un titre fait {MAX_TITLE_CHARS} caractères au plus")
    return title, title_parent


# ---------------------------------------------------------------------------------------------------- requests


def request_edit(session: Session, *, actor: Actor, entry_id: str, title: str, title_parent: str, answer_eleve: str,
                 answer_parent: str, sources: Sequence[str], valid_until, anonymise: Callable[[str], str],
                 now: datetime) -> Change:
    """New title(s), answers, sources or date of validity; what is typed is anonymised first."""
    entry = _entry(session, entry_id)
    _check(session, "edit", entry, {})
    title, title_parent = _titles(title, title_parent, anonymise)
    answer_eleve, answer_parent = _answers(answer_eleve, answer_parent, anonymise)
    payload = {"title": title, "title_parent": title_parent, "answer_eleve": answer_eleve,
               "answer_parent": answer_parent, "sources": _sources(sources, anonymise), "valid_until": _valid_until(valid_until)}
    current = snapshot(entry)
    if all(payload[name] == current[name] for name in EDITABLE_FIELDS):
        raise KnowledgeAdminError("rien n'a changé par rapport à l'entrée actuelle")
    return _request(session, actor=actor, kind="edit", entry=entry, payload=payload, now=now)


def request_merge(session: Session, *, actor: Actor, entry_id: str, duplicate_id: str, now: datetime) -> Change:
    """Merge the entry ``duplicate_id`` into ``entry_id``: its questions get this entry's answers."""
    entry = _entry(session, entry_id)
    duplicate = session.get(KBEntry, (duplicate_id or "").strip()[:120])
    if duplicate is None:
        raise KnowledgeAdminError("choisissez l'entrée en double à fusionner dans celle-ci")
    payload = {"duplicate": duplicate.id}
    _check(session, "merge", entry, payload)
    return _request(session, actor=actor, kind="merge", entry=entry, payload=payload, now=now)


def _check_merge(entry: KBEntry, duplicate: KBEntry) -> None:
    if entry.id == duplicate.id:
        raise KnowledgeAdminError("une entrée ne peut pas être fusionnée avec elle-même")
    if entry.status not in ("active", "review"):
        raise KnowledgeAdminError("l'entrée gardée doit être en service ou à relire")
    if duplicate.status == "merged":
        raise KnowledgeAdminError(f"le doublon est déjà fusionné dans « {duplicate.merged_into} »")


def request_split(session: Session, *, actor: Actor, entry_id: str, variant_ids: Sequence[int], title: str,
                  title_parent: str, answer_eleve: str, answer_parent: str, sources: Sequence[str],
                  anonymise: Callable[[str], str], now: datetime) -> Change:
    """Move the chosen questions of an entry to a new entry with its own answers."""
    entry = _entry(session, entry_id)
    chosen = sorted({int(variant_id) for variant_id in variant_ids})
    _check(session, "split", entry, {"variant_ids": chosen})
    title, title_parent = _titles(title, title_parent, anonymise)
    answer_eleve, answer_parent = _answers(answer_eleve, answer_parent, anonymise)
    payload = {"variant_ids": chosen, "title": title, "title_parent": title_parent, "answer_eleve": answer_eleve,
               "answer_parent": answer_parent, "sources": _sources(sources, anonymise)}
    return _request(session, actor=actor, kind="split", entry=entry, payload=payload, now=now)


def _check_split(entry: KBEntry, chosen: Sequence[int]) -> None:
    own = {variant.id for variant in entry.variants}
    if not chosen:
        raise KnowledgeAdminError("cochez les questions qui partent dans la nouvelle entrée")
    if not set(chosen) <= own:
        raise KnowledgeAdminError("une des questions cochées n'appartient plus à cette entrée : rechargez la page")
    if set(chosen) == own:
        raise KnowledgeAdminError("laissez au moins une question dans l'entrée d'origine")


def request_retire(session: Session, *, actor: Actor, entry_id: str, now: datetime) -> Change:
    """Stop serving an entry (it stays in the history and can be put back)."""
    return _request_plain(session, actor=actor, kind="retire", entry_id=entry_id, now=now)


def request_restore(session: Session, *, actor: Actor, entry_id: str, now: datetime) -> Change:
    """Serve a retired entry again."""
    return _request_plain(session, actor=actor, kind="restore", entry_id=entry_id, now=now)


def request_review(session: Session, *, actor: Actor, entry_id: str, now: datetime) -> Change:
    """The entry was read and is right: its doubts are cleared and, if it was held back, it is served."""
    return _request_plain(session, actor=actor, kind="review", entry_id=entry_id, now=now)


def _request_plain(session: Session, *, actor: Actor, kind: str, entry_id: str, now: datetime) -> Change:
    entry = _entry(session, entry_id)
    _check(session, kind, entry, {})
    return _request(session, actor=actor, kind=kind, entry=entry, payload={}, now=now)


def _check(session: Session, kind: str, entry: KBEntry, payload: dict) -> None:
    """Whether the change can be made to the entry as it is now: when asked for, and again when approved."""
    if kind == "restore":
        if entry.status != "retired":
            raise KnowledgeAdminError("seule une entrée retirée peut être remise en service")
        return
    _not_merged(entry)
    if kind == "retire" and entry.status == "retired":
        raise KnowledgeAdminError("cette entrée est déjà retirée")
    if kind == "review" and entry.status == "retired":
        raise KnowledgeAdminError("cette entrée est retirée : remettez-la d'abord en service")
    if kind == "merge":
        _check_merge(entry, _entry(session, payload.get("duplicate", "")))
    if kind == "split":
        _check_split(entry, payload.get("variant_ids", []))


def _request(session: Session, *, actor: Actor, kind: str, entry: KBEntry, payload: dict, now: datetime) -> Change:
    if actor.is_admin:
        entry_id = _apply(session, kind=kind, entry=entry, payload=payload, by=actor.id, now=now)
        return Change(applied=True, entry_id=entry_id)
    proposal = KBProposal(
        kind=kind, payload=payload, target_entry_id=entry.id, title=payload.get("title") or entry.title,
        questions=[], answer_eleve=payload.get("answer_eleve", ""), answer_parent=payload.get("answer_parent", ""),
        sources=payload.get("sources", []), status="proposed", proposed_by=actor.id, created_at=now,
    )
    session.add(proposal)
    session.flush()
    return Change(applied=False, entry_id=entry.id, proposal=proposal)


# ---------------------------------------------------------------------------------------------------- review of changes


def pending_changes(session: Session, *, entry_id: Optional[str] = None) -> List[KBProposal]:
    """Counsellors' changes waiting for an admin, oldest first (all of them, or those about ``entry_id``)."""
    query = select(KBProposal).where(KBProposal.status == "proposed", KBProposal.kind.in_(CHANGE_KINDS))
    if entry_id is not None:
        query = query.where(KBProposal.target_entry_id == entry_id)
    return list(session.execute(query.order_by(KBProposal.created_at, KBProposal.id)).scalars())


def _pending(session: Session, proposal_id: int, reviewer: Actor) -> KBProposal:
    if not reviewer.is_admin:
        raise KnowledgeAdminError("seul un administrateur peut approuver ou refuser une modification")
    proposal = session.get(KBProposal, proposal_id)
    if proposal is None or proposal.kind not in CHANGE_KINDS:
        raise KnowledgeAdminError("cette modification n'existe pas")
    if proposal.status != "proposed":
        raise KnowledgeAdminError("cette modification a déjà été examinée")
    return proposal


def approve_change(session: Session, *, proposal_id: int, reviewer: Actor, now: datetime) -> str:
    """Apply a counsellor's pending change (checked again: the entry may have changed since); the entry id to show."""
    proposal = _pending(session, proposal_id, reviewer)
    entry = _entry(session, proposal.target_entry_id)
    payload = dict(proposal.payload or {})
    _check(session, proposal.kind, entry, payload)
    entry_id = _apply(session, kind=proposal.kind, entry=entry, payload=payload, by=proposal.proposed_by, now=now,
                      approved_by=reviewer.id, proposal_id=proposal.id)
    proposal.status, proposal.reviewed_by, proposal.reviewed_at = "approved", reviewer.id, now
    proposal.created_entry_id = entry_id
    return entry_id


def reject_change(session: Session, *, proposal_id: int, reviewer: Actor, now: datetime) -> KBProposal:
    proposal = _pending(session, proposal_id, reviewer)
    proposal.status, proposal.reviewed_by, proposal.reviewed_at = "rejected", reviewer.id, now
    return proposal


# ---------------------------------------------------------------------------------------------------- applying


def _apply(session: Session, *, kind: str, entry: KBEntry, payload: dict, by: int, now: datetime,
           approved_by: Optional[int] = None, proposal_id: Optional[int] = None) -> str:
    """Make the change, write its versions; the id of the entry to show afterwards."""
    trail = {"by": by, "now": now, "approved_by": approved_by, "proposal_id": proposal_id}
    before = snapshot(entry)
    shown = entry.id
    if kind == "edit":
        entry.title, entry.title_parent = payload["title"], payload["title_parent"]
        entry.answer_eleve, entry.answer_parent = payload["answer_eleve"], payload["answer_parent"]
        entry.sources = list(payload["sources"])
        entry.valid_until = date.fromisoformat(payload["valid_until"]) if payload["valid_until"] else None
        entry.edited = True
    elif kind == "retire":
        entry.status = "retired"
    elif kind == "restore":
        entry.status = "review" if entry.review_reasons else "active"
    elif kind == "review":
        entry.review_reasons, entry.reviewed_by, entry.reviewed_at = [], by, now
        if entry.status == "review":
            entry.status = "active"
    elif kind == "merge":
        _merge(session, entry, _entry(session, payload["duplicate"]), trail)
    elif kind == "split":
        shown = _split(session, entry, payload, trail)
    else:
        raise KnowledgeAdminError("cette action n'existe pas")
    entry.updated_at = now
    _record(session, entry, action=kind, before=before, **trail)
    return shown


def _merge(session: Session, kept: KBEntry, duplicate: KBEntry, trail: dict) -> None:
    before = snapshot(duplicate)
    for variant in list(duplicate.variants):
        variant.entry = kept
    kept.times_asked = (kept.times_asked or 0) + (duplicate.times_asked or 0)
    duplicate.status, duplicate.merged_into, duplicate.updated_at = "merged", kept.id, trail["now"]
    # Entries merged earlier into the duplicate now lead to the entry kept.
    for earlier in session.execute(select(KBEntry).where(KBEntry.merged_into == duplicate.id)).scalars():
        earlier.merged_into = kept.id
    _record(session, duplicate, action="merged", before=before, **trail)


def _split(session: Session, entry: KBEntry, payload: dict, trail: dict) -> str:
    chosen = set(payload["variant_ids"])
    leaving = [variant for variant in entry.variants if variant.id in chosen]
    created = KBEntry(
        id=_new_entry_id(payload["title"]), title=payload["title"], title_parent=payload["title_parent"],
        answer_eleve=payload["answer_eleve"], answer_parent=payload["answer_parent"],
        sources=list(payload["sources"]), times_asked=len(leaving), campaign_year=entry.campaign_year,
        valid_until=entry.valid_until, status="active", origin="console", edited=True, review_reasons=[],
        reviewed_by=trail["by"], reviewed_at=trail["now"], created_at=trail["now"], updated_at=trail["now"],
    )
    session.add(created)
    for variant in leaving:
        variant.entry = created
        if not (variant.conversation_id or "").startswith(CONSOLE_VARIANT_PREFIX):
            variant.conversation_id = f"{SPLIT_MARK}{variant.conversation_id or ''}"[:200]
    entry.times_asked = max(0, (entry.times_asked or 0) - len(leaving))
    _record(session, created, action="split_from", before=None, **trail)
    return created.id


def _new_entry_id(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold_accents(title).lower()).strip("-")[:60].strip("-") or "entree"
    return f"console-{slug}-{uuid.uuid4().hex[:6]}"


# ---------------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Usage:
    """How an entry fares with people: answers the bot gave from it, 👍 and 👎 on them."""

    served: int = 0
    liked: int = 0
    disliked: int = 0


def usage(session: Session, *, entry_ids: Optional[Sequence[str]] = None) -> Dict[str, Usage]:
    """Per entry id: bot messages of the chat log that carried its answer, and the feedback on it."""
    served_kb_id = ChatMessage.payload[("answer", "kb_id")].as_string()
    served_query = select(served_kb_id, func.count(ChatMessage.id)).where(
        ChatMessage.author == "bot", served_kb_id.is_not(None)).group_by(served_kb_id)
    feedback_query = select(Feedback.kb_id, func.sum(case((Feedback.value > 0, 1), else_=0)),
                            func.sum(case((Feedback.value < 0, 1), else_=0))).where(
        Feedback.kb_id.is_not(None)).group_by(Feedback.kb_id)
    if entry_ids is not None:
        served_query = served_query.where(served_kb_id.in_(list(entry_ids)))
        feedback_query = feedback_query.where(Feedback.kb_id.in_(list(entry_ids)))
    served = {kb_id: int(count) for kb_id, count in session.execute(served_query) if kb_id}
    feedback = {kb_id: (int(up or 0), int(down or 0)) for kb_id, up, down in session.execute(feedback_query)}
    return {kb_id: Usage(served.get(kb_id, 0), *feedback.get(kb_id, (0, 0))) for kb_id in {*served, *feedback}}


def entry_topic(entry: KBEntry) -> Optional[str]:
    """The topic most of its wordings are about (the title counts twice), None when none says."""
    votes = Counter({topic_of(entry.title): 2})
    votes.update(topic_of(variant.text) for variant in entry.variants)
    votes.pop(None, None)
    return votes.most_common(1)[0][0] if votes else None


@dataclass(frozen=True)
class ListedEntry:
    id: str
    title: str
    status: str
    topic: Optional[str]
    questions: int
    times_asked: int
    usage: Usage
    needs_review: bool
    out_of_date: bool
    edited: bool
    valid_until: Optional[date]


# What the list shows: "" the entries the bot serves or holds back for review.
SHOWN = {
    "": lambda e: e.status in ("active", "review"),
    "review": lambda e: e.needs_review,
    "outdated": lambda e: e.out_of_date and e.status in ("active", "review"),
    "retired": lambda e: e.status == "retired",
    "merged": lambda e: e.status == "merged",
    "all": lambda e: True,
}
ORDERS = {
    "asked": lambda e: (-e.usage.served, -e.times_asked, fold_accents(e.title.lower())),
    "disliked": lambda e: (-e.usage.disliked, -e.usage.served, fold_accents(e.title.lower())),
    "title": lambda e: (fold_accents(e.title.lower()),),
}


def list_entries(session: Session, *, today: date, search: str = "", topic: str = "", show: str = "",
                 order: str = "asked") -> List[ListedEntry]:
    """The entries matching every word of ``search`` (title, answers, questions, id) and the filters."""
    rows = session.execute(select(KBEntry).options(selectinload(KBEntry.variants))).scalars().all()
    counts = usage(session)
    words = normalise(search or "").split()
    listed = []
    for row in rows:
        if words:
            haystack = normalise(" ".join([row.id, row.title, row.title_parent or "", row.answer_eleve,
                                           row.answer_parent, *(variant.text for variant in row.variants)]))
            if not all(word in haystack for word in words):
                continue
        entry = ListedEntry(
            id=row.id, title=row.title, status=row.status, topic=entry_topic(row), questions=len(row.variants),
            times_asked=row.times_asked or 0, usage=counts.get(row.id, Usage()),
            needs_review=row.status == "review" or (row.status == "active" and bool(row.review_reasons)),
            out_of_date=row.valid_until is not None and row.valid_until < today, edited=bool(row.edited),
            valid_until=row.valid_until,
        )
        if SHOWN.get(show, SHOWN[""])(entry) and (not topic or entry.topic == topic):
            listed.append(entry)
    return sorted(listed, key=ORDERS.get(order, ORDERS["asked"]))


def entry_with_variants(session: Session, entry_id: str) -> Optional[KBEntry]:
    return session.execute(select(KBEntry).where(KBEntry.id == (entry_id or "")[:120])
                           .options(selectinload(KBEntry.variants))).scalars().first()


def variant_texts(session: Session, variant_ids: Sequence[int]) -> Dict[int, str]:
    """The questions a pending split would move, for showing it to the admin who reviews it."""
    if not variant_ids:
        return {}
    return dict(session.execute(select(KBVariant.id, KBVariant.text).where(KBVariant.id.in_(list(variant_ids)))).all())
