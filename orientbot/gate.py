"""The answer gate: answer, ask "did you mean…?", or admit not understanding.

Owns the decision taken after NLU for a question that is not a greeting, a
request for a human, a personal case or distress.  Rasa's FallbackClassifier
only looks at the ``faq`` intent, which is confident even on nonsense
(RasaHQ/rasa#9723, #9751); this gate looks at the response selector's own
confidence, the margin to its runner-up, and whether an independent retriever
over the KB's question variants agrees.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from orientbot.normalise import normalise
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


@dataclass(frozen=True)
class Decision:
    kind: str
    kb_id: Optional[str] = None
    confidence: float = 0.0
    candidates: Tuple[Candidate, ...] = field(default_factory=tuple)
    why: str = ""


def merge(selector: Sequence[Match], retrieval: Sequence[Match]) -> List[Candidate]:
    """Every candidate either view proposes, with both views' scores, best retrieval first."""
    by_selector = {m.kb_id: m.score for m in selector}
    by_retrieval = {m.kb_id: m.score for m in retrieval}
    ids = dict.fromkeys([m.kb_id for m in retrieval] + [m.kb_id for m in selector])
    candidates = [Candidate(i, by_selector.get(i, 0.0), by_retrieval.get(i, 0.0)) for i in ids]
    return sorted(candidates, key=lambda c: (c.retrieval_score, c.selector_confidence), reverse=True)


def decide(
    *,
    intent: str,
    intent_confidence: float,
    selector: Sequence[Match],
    retrieval: Sequence[Match],
    settings: GateSettings,
    known_ids: Optional[set] = None,
) -> Decision:
    """Decide what to do with a question, from both rankings (best first).

    Measured on held-out questions: when the selector's and the retriever's first
    choices agree they are right 95 % of the time, whatever the selector's
    (low, spread) confidence.  Without agreement the retriever alone answers
    when its score plus a multiple of its lead over the runner-up is high enough
    (a moderate score far ahead is as safe as a high score a little ahead); when
    two candidates are nearly tied, only if the selector clearly prefers one of them.
    """
    if known_ids is not None:
        selector = [m for m in selector if m.kb_id in known_ids]
        retrieval = [m for m in retrieval if m.kb_id in known_ids]
    candidates = merge(selector, retrieval)
    shortlist = tuple(candidates[: settings.max_candidates])
    if intent == "out_of_scope" and intent_confidence >= settings.out_of_scope_confidence:
        return Decision(OUT_OF_SCOPE, candidates=shortlist, why="intent out_of_scope")
    if not retrieval:
        return Decision(NOT_UNDERSTOOD, candidates=shortlist, why="nothing retrieved")
    top = retrieval[0]
    margin = top.score - (retrieval[1].score if len(retrieval) > 1 else 0.0)
    if selector and selector[0].kb_id == top.kb_id and top.score >= settings.agreement_similarity:
        return Decision(ANSWER, top.kb_id, top.score, shortlist, "selector and retriever agree")
    support = top.score + settings.margin_weight * margin
    if (support >= settings.retrieval_answer_similarity and margin >= settings.min_margin
            and top.score >= settings.retrieval_min_similarity):
        return Decision(ANSWER, top.kb_id, top.score, shortlist, "a clearly closest known question")
    settled = _tie_settled_by_selector(selector, retrieval, settings)
    if settled is not None:
        return Decision(ANSWER, settled.kb_id, settled.score, shortlist, "a near tie the selector settles")
    close = tuple(
        c for c in shortlist
        if c.retrieval_score >= settings.clarify_similarity or c.selector_confidence >= settings.clarify_confidence
    )
    if close:
        return Decision(CLARIFY, candidates=close, why="unsure between candidates")
    return Decision(NOT_UNDERSTOOD, candidates=shortlist, why="no candidate close enough")


def _tie_settled_by_selector(selector: Sequence[Match], retrieval: Sequence[Match], settings: GateSettings) -> Optional[Match]:
    """The retriever's first or second, when the selector clearly prefers it (held-out: +2 right, no more wrong)."""
    if len(retrieval) < 2 or not selector or retrieval[0].score < settings.retrieval_min_similarity:
        return None
    first = selector[0]
    lead = first.score - (selector[1].score if len(selector) > 1 else 0.0)
    if first.score < settings.tiebreak_confidence or lead < settings.tiebreak_lead:
        return None
    return next((m for m in retrieval[:2] if m.kb_id == first.kb_id), None)


_FIRST_PERSON = {"je", "me", "moi", "mon", "ma", "mes", "notre", "nos", "fils", "fille", "enfant"}
PERSONAL_SITUATION_WORDS = 10


def tells_a_personal_situation(text: str) -> bool:
    """A long message about oneself: when the gate cannot place it, a counsellor should read it."""
    words = normalise(text).split()
    return len(words) >= PERSONAL_SITUATION_WORDS and bool(_FIRST_PERSON.intersection(words))


_COMPLAINT = re.compile(
    r"\bnormal\b|\binjuste\b|\bpas juste\b|\bpourquoi moi\b|\bcomprends? pas pourquoi\b|\bscandale|\binadmissible\b"
    r"|\bpourquoi (?:suis je|ai je|j ai|je suis|je n ai|mon|ma|mes|notre|nos)\b"
    r"|\bpourtant\b|\bbizarre\b|\bchelou\b|\banormal\b|\bpas logique\b|\bincoheren\w*"
    # Contesting what was decided, or asking to be got out of a situation, is about one's own case too.
    r"|\bcontest\w*|\breclam\w*|\baidez (?:moi|nous)\b|\bque pouvez vous faire\b|\bsans solution\b"
)


def sounds_like_a_complaint(text: str) -> bool:
    """"c'est normal ?", "c'est injuste", "pourquoi ai-je…", "je conteste", "aidez-moi": someone questioning what happens to them."""
    return bool(_COMPLAINT.search(normalise(text)))


_EQUATION = re.compile(r"\d*\s*[a-z]?\s*[-+*/×]\s*\d+\s*=")  # "3x + 5 = 20", "2 + 2 = ?" (not "2026-2027")
# A verb alone is not enough ("rédiger son projet motivé", "corriger un vœu" are orientation):
# it must ask the bot to do the work ("résous-moi", "tu peux me traduire").
_HOMEWORK = re.compile(
    r"\b(?:resous|traduis|corrige|redige|calcule) (?:moi|nous)\b"
    r"|\b(?:me|nous) (?:resoudre|traduire|corriger|rediger|calculer) (?:ce|cet|cette|ces|mon|ma|mes|l|le|la|les)\b"
    r"|\b(?:mon|mes|ce|cet|cette|son|ses|le|un|une|l)\s+(?:exercice|exo|devoir|dm|dissertation|redaction|equation)s?\b"
)


def looks_like_homework(text: str) -> bool:
    """"résous 3x + 5 = 20", "fais mon exercice": schoolwork, which is not the bot's field (nor a counsellor's).

    Checked before any answer: a homework request that happens to share words with a KB entry is still declined.
    """
    # The normaliser drops "=" and "*": equations are looked for in the raw text.
    return bool(_EQUATION.search(text.lower()) or _HOMEWORK.search(normalise(text)))


_HUMAN = re.compile(
    r"\b(?:veux|voudrais|voudrions|aimerais|aimerions|souhaite\w*|pourriez|pouvez|peux|possible|besoin|prendre"
    r"|organiser|mettez|mettre|passez|transferez)\b.{0,30}"
    r"\b(?:parler|echanger|discuter|rendez vous|rdv|entretien|relation|contact|recontacte|rappele|rappeler|moi|recus?)\b"
    r".{0,40}\b(?:conseill\w*|humain|vraie? personne|quelqu un|psy\w*|cio)\b"
    r"|\bun humain\b|\bvraie? personne\b|\bpas (?:a )?un (?:bot|robot)\b"
)


def asks_for_a_human(text: str) -> bool:
    """"je voudrais parler à un conseiller", "un rendez-vous avec la psy-EN": a person is asked for, whatever NLU said."""
    return bool(_HUMAN.search(normalise(text)))
