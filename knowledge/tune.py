"""Choosing the retriever's weights (``RetrievalSettings``) by cross-validation over the transcripts.

Owns the search.  Every setting tried is measured on the folds of ``knowledge.crossval`` (grouped by
conversation, a fifth of the entries held out whole, several draws of them): each question whose entry
is in its fold's KB is ranked by a retriever built from the fold's training entries only, and the
figure is the share that gets its own entry first (top-1; top-3 is printed beside it).  The weights
are changed one at a time from the current settings (coordinate search) and a change is kept only
when it gains more than ``min_gain``: smaller gains are within what the choice of held-out entries
moves.  No evaluation set is read.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Callable, Dict, Iterable, List, Sequence, Tuple

from knowledge.crossval import FAQ, Item, make_folds
from orientbot.kb import KnowledgeEntry
from orientbot.policy import AnswerPolicy, Message, PatternsOnly
from orientbot.settings import GateSettings, RetrievalSettings

# The values each weight may take (the current setting is always tried too).
GRID: Dict[str, Tuple[float, ...]] = {
    "char_weight": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    "centroid_weight": (0.4, 0.6, 0.7, 0.8, 0.9, 1.0),
    "answer_weight": (0.3, 0.5, 0.8, 1.0, 1.3),
}


@dataclass(frozen=True)
class Ranked:
    """How a retriever setting ranks the answerable questions, over every draw."""

    weights: RetrievalSettings
    questions: int
    first: int
    in_three: int

    @property
    def top1(self) -> float:
        return self.first / self.questions if self.questions else 0.0

    @property
    def top3(self) -> float:
        return self.in_three / self.questions if self.questions else 0.0


def measure(items: Sequence[Item], entries: Sequence[KnowledgeEntry], weights: RetrievalSettings,
            draws: int = 3) -> Ranked:
    """Top-1 and top-3 of the answerable questions, each ranked by its fold's retriever."""
    questions = first = in_three = 0
    reader = AnswerPolicy(GateSettings(), None)  # reads a question as the policy does (a follow-up with its subject)
    for draw in range(draws):
        for fold in make_folds(items, entries, lambda _: PatternsOnly(), draw=draw, weights=weights):
            for i in fold.test:
                item = items[i]
                if item.kind != FAQ or item.gold not in fold.entries:
                    continue
                reading = reader.read(Message(item.question, item.audience, item.previous), fold.retriever)
                ranked = [m.kb_id for m in reading.ranked[:3]]
                questions += 1
                first += bool(ranked) and ranked[0] == item.gold
                in_three += item.gold in ranked
    return Ranked(weights, questions, first, in_three)


def search(items: Sequence[Item], entries: Sequence[KnowledgeEntry], start: RetrievalSettings, *,
           grid: Dict[str, Iterable[float]] = GRID, draws: int = 3, min_gain: float = 0.003,
           rounds: int = 2, report: Callable[[Ranked, str], None] = lambda r, note: None,
           measure: Callable[..., Ranked] = measure) -> Ranked:
    """Coordinate search from ``start``: the best setting found, each tried one reported as it is measured.

    ``measure(items, entries, weights, draws)``: how a setting is scored (``measure`` above; a test passes its own).
    """
    best = measure(items, entries, start, draws)
    report(best, "start")
    names = [f.name for f in fields(RetrievalSettings)]
    for _ in range(rounds):
        improved = False
        for name in names:
            tried: List[Ranked] = []
            for value in grid.get(name, ()):
                if value == getattr(best.weights, name):
                    continue
                found = measure(items, entries, replace(best.weights, **{name: value}), draws)
                report(found, name)
                tried.append(found)
            challenger = max(tried, key=lambda r: r.top1, default=None)
            if challenger is not None and challenger.top1 > best.top1 + min_gain:
                best, improved = challenger, True
                report(best, f"kept {name}")
        if not improved:
            break
    return best


def line(ranked: Ranked) -> str:
    weights = ", ".join(f"{f.name}={getattr(ranked.weights, f.name):g}" for f in fields(RetrievalSettings))
    return f"top-1 {ranked.top1:.3f}  top-3 {ranked.top3:.3f}  ({ranked.questions} questions)  {weights}"
