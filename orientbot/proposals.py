"""Knowledge proposed from the console, and its review by an admin.

Owns the way a counsellor's answer becomes knowledge: a proposal is a new
entry (title, questions, an answer per audience) or new question variants of
an existing entry; an admin approves it (the entry or the variants are written
with ``origin="console"``, status ``active``, so that the pipeline's rebuilds
keep them) or rejects it.  Proposals are never deleted.

Everything a person or a counsellor typed goes through the ``anonymise``
function the caller passes (the pipeline's anonymiser: the core does not
import the pipeline) before it is stored.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Callable, List, Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from orientbot.db import KBEntry, KBProposal, KBVariant
from orientbot.kb import CONSOLE_VARIANT_PREFIX, load_entries
from orientbot.normalise import fold_accents
from orientbot.retrieval import Match, Retriever

MAX_QUESTIONS = 20
MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 5000
MAX_TITLE_CHARS = 200
STATUSES = ("proposed", "approved", "rejected")
# The kind of the proposals made here (new knowledge from a ticket); ``orientbot.kb_admin`` records others.
KNOWLEDGE_KIND = "knowledge"


class ProposalError(ValueError):
    """A refused proposal or review; the message is French and can be shown as is."""


def _clean(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in (text or "").strip().splitlines()).strip()


def propose(session: Session, *, proposed_by: int, questions: Sequence[str], answer_eleve: str, answer_parent: str,
            anonymise: Callable[[str], str], now: datetime, title: str = "", ticket_id: Optional[str] = None,
            target_entry_id: Optional[str] = None, sources: Sequence[str] = ()) -> KBProposal:
    """Record a proposal; questions and answers are anonymised first."""
    questions = [anonymise(_clean(q)) for q in questions if _clean(q)]
    if not questions:
        raise ProposalError("il faut au moins une question")
    if len(questions) > MAX_QUESTIONS or any(len(q) > MAX_QUESTION_CHARS for q in questions):
        raise ProposalError(f"{MAX_QUESTIONS} questions au plus, de {MAX_QUESTION_CHARS} caractères au plus chacune")
    answers = [anonymise((answer or "").strip()) for answer in (answer_eleve, answer_parent)]
    if target_entry_id is None:
        if not all(answers):
            raise ProposalError("il faut une réponse pour les élèves et une pour les parents")
        if any(len(answer) > MAX_ANSWER_CHARS for answer in answers):
            raise ProposalError(f"une réponse fait {MAX_ANSWER_CHARS} caractères au plus")
    else:
        entry = session.get(KBEntry, target_entry_id)
        if entry is None or entry.status != "active":
            raise ProposalError("l'entrée choisie n'existe pas ou n'est plus active")
    title = anonymise(_clean(title))[:MAX_TITLE_CHARS] or questions[0][:MAX_TITLE_CHARS]
    proposal = KBProposal(
        ticket_id=ticket_id, target_entry_id=target_entry_id, title=title, questions=questions,
        answer_eleve=answers[0], answer_parent=answers[1], sources=[s.strip() for s in sources if s.strip()],
        status="proposed", proposed_by=proposed_by, created_at=now,
    )
    session.add(proposal)
    session.flush()
    return proposal


def proposals(session: Session, *, status: Optional[str] = None, limit: int = 100) -> List[KBProposal]:
    # Counsellors' edits of existing entries are proposals too, reviewed on /knowledge/changes (orientbot.kb_admin).
    query = select(KBProposal).where(KBProposal.kind == KNOWLEDGE_KIND)
    if status:
        query = query.where(KBProposal.status == status)
    return list(session.execute(query.order_by(KBProposal.created_at.desc(), KBProposal.id.desc()).limit(limit)).scalars())


def _pending(session: Session, proposal_id: int) -> KBProposal:
    proposal = session.get(KBProposal, proposal_id)
    if proposal is None or proposal.kind != KNOWLEDGE_KIND:
        raise ProposalError("cette proposition n'existe pas")
    if proposal.status != "proposed":
        raise ProposalError("cette proposition a déjà été examinée")
    return proposal


def _new_entry_id(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", fold_accents(title).lower()).strip("-")[:60].strip("-") or "entree"
    return f"console-{slug}-{uuid.uuid4().hex[:6]}"


def approve(session: Session, *, proposal_id: int, reviewer_id: int, now: datetime) -> KBEntry:
    """Write the proposal into the KB (a new active entry, or variants of its target) and return the entry."""
    proposal = _pending(session, proposal_id)
    marker = f"{CONSOLE_VARIANT_PREFIX}proposal-{proposal.id}"
    variants = [KBVariant(text=question, conversation_id=marker) for question in proposal.questions]
    if proposal.target_entry_id:
        entry = session.get(KBEntry, proposal.target_entry_id)
        if entry is None or entry.status != "active":
            raise ProposalError("l'entrée visée n'existe plus : refusez la proposition et proposez une nouvelle entrée")
        entry.variants.extend(variants)
        entry.times_asked += len(variants)
        entry.updated_at = now
    else:
        entry = KBEntry(
            id=_new_entry_id(proposal.title), title=proposal.title, answer_eleve=proposal.answer_eleve,
            answer_parent=proposal.answer_parent, sources=list(proposal.sources or []), times_asked=len(variants),
            status="active", origin="console", created_at=now, updated_at=now, variants=variants,
        )
        session.add(entry)
    proposal.status, proposal.reviewed_by, proposal.reviewed_at = "approved", reviewer_id, now
    proposal.created_entry_id = entry.id
    session.flush()
    return entry


def reject(session: Session, *, proposal_id: int, reviewer_id: int, now: datetime) -> KBProposal:
    proposal = _pending(session, proposal_id)
    proposal.status, proposal.reviewed_by, proposal.reviewed_at = "rejected", reviewer_id, now
    return proposal


def suggest_targets(session: Session, *, questions: Sequence[str], limit: int = 3) -> List[Match]:
    """The existing entries these questions are closest to, best first (one search per question, best score kept)."""
    retriever = Retriever(load_entries(session))
    best = {}
    for question in questions:
        for match in retriever.search(question, limit=limit):
            best[match.kb_id] = max(best.get(match.kb_id, 0.0), match.score)
    return [Match(kb_id, score) for kb_id, score in sorted(best.items(), key=lambda item: -item[1])[:limit]]
