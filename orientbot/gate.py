"""The answer gate: answer, ask "did you mean…?", or admit not understanding.

Owns the decision taken after NLU for a question that is not a greeting, a
request for a human, a personal case or distress.  Rasa's FallbackClassifier
only looks at the ``faq`` intent, which is confident even on nonsense
(RasaHQ/rasa#9723, #9751); this gate looks at the response selector's own
confidence, the margin to its runner-up, and whether an independent retriever
over the KB's question variants agrees.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from orientbot.retrieval import Match
from orientbot.settings import GateSettings

ANSWER = "answer"
CLARIFY = "clarify"
OUT_OF_SCOPE = "out_of_scope"
NOT_UNDERSTOOD = "not_understood"


@dataclass(frozen=True)
class Candidate:
    kb_id: str
    selector_confidence: float
    retrieval_score: float

    @property
    def score(self) -> float:
        return round(max(self.selector_confidence, self.retrieval_score), 4)


@dataclass(frozen=True)
class Decision:
    kind: str
    kb_id: Optional[str] = None
    confidence: float = 0.0
    candidates: Tuple[Candidate, ...] = field(default_factory=tuple)
    why: str = ""


def _merge(selector: Sequence[Match], retrieval: Sequence[Match]) -> List[Candidate]:
    by_selector = {m.kb_id: m.score for m in selector}
    by_retrieval = {m.kb_id: m.score for m in retrieval}
    ids = list(dict.fromkeys([m.kb_id for m in selector] + [m.kb_id for m in retrieval]))
    candidates = [Candidate(i, by_selector.get(i, 0.0), by_retrieval.get(i, 0.0)) for i in ids]
    # Ranked by the evidence of both views together.
    return sorted(candidates, key=lambda c: c.selector_confidence + c.retrieval_score, reverse=True)


def decide(
    *,
    intent: str,
    intent_confidence: float,
    selector: Sequence[Match],
    retrieval: Sequence[Match],
    settings: GateSettings,
    known_ids: Optional[set] = None,
) -> Decision:
    """Decide what to do with a question, from both rankings (best first)."""
    if known_ids is not None:
        selector = [m for m in selector if m.kb_id in known_ids]
        retrieval = [m for m in retrieval if m.kb_id in known_ids]
    candidates = _merge(selector, retrieval)
    top_sel = selector[0] if selector else Match("", 0.0)
    second_sel = selector[1].score if len(selector) > 1 else 0.0
    top_ret = retrieval[0] if retrieval else Match("", 0.0)
    retrieval_of = {m.kb_id: m.score for m in retrieval}

    if intent == "out_of_scope" and intent_confidence >= settings.out_of_scope_confidence:
        return Decision(OUT_OF_SCOPE, candidates=tuple(candidates[: settings.max_candidates]), why="intent out_of_scope")

    if (
        top_sel.kb_id
        and top_sel.kb_id == top_ret.kb_id
        and top_sel.score >= settings.agreement_confidence
        and top_ret.score >= settings.agreement_similarity
    ):
        return Decision(ANSWER, top_sel.kb_id, top_sel.score, tuple(candidates), "selector and retriever agree")

    if (
        top_sel.score >= settings.answer_confidence
        and top_sel.score - second_sel >= settings.min_margin
        and retrieval_of.get(top_sel.kb_id, 0.0) >= settings.clarify_similarity
    ):
        return Decision(ANSWER, top_sel.kb_id, top_sel.score, tuple(candidates), "selector confident")

    if top_ret.score >= settings.retrieval_alone_similarity:
        return Decision(ANSWER, top_ret.kb_id, top_ret.score, tuple(candidates), "near-identical question known")

    shortlist = tuple(
        c for c in candidates
        if c.selector_confidence >= settings.clarify_confidence or c.retrieval_score >= settings.clarify_similarity
    )[: settings.max_candidates]
    if shortlist:
        return Decision(CLARIFY, candidates=shortlist, why="unsure between candidates")
    return Decision(NOT_UNDERSTOOD, candidates=tuple(candidates[: settings.max_candidates]), why="no candidate close enough")
