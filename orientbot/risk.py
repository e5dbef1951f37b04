"""The probability that answering a question with the retriever's first choice is right.

Owns the risk model the answer policy abstains by: a logistic regression over what the retriever
says of its candidates (scores, margin, how much of the question's rare words the entry covers,
whether the entry's questions ask what this one asks), fitted on cross-validated predictions over
the transcripts (``knowledge.crossval``), and the operating point chosen there for a budget of wrong
answers.  Nothing here is set by hand: the model file says where and how it was measured.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from orientbot.retrieval import Scored

FEATURES: Tuple[str, ...] = (
    "score", "margin", "second", "best_variant", "centroid", "answer", "coverage", "coverage_lead",
    "focus_agreement", "asks_a_focus", "content_words", "unknown_share", "parent", "follow_up",
    "classifier", "classifier_first", "classifier_lead",
)


def features(ranked: Sequence[Scored], *, content_words: Mapping[str, float], known_words: set,
             audience: str, follow_up: bool, asks_a_focus: bool) -> Dict[str, float]:
    """What the model reads about the retriever's first choice (``ranked`` best first, not empty)."""
    top = ranked[0]
    second = ranked[1] if len(ranked) > 1 else None
    total = sum(content_words.values())
    unknown = sum(w for word, w in content_words.items() if word not in known_words)
    return {
        "score": top.score,
        "margin": top.score - (second.score if second else 0.0),
        "second": second.score if second else 0.0,
        "best_variant": top.best_variant,
        "centroid": top.centroid,
        "answer": top.answer,
        "coverage": top.coverage,
        "coverage_lead": top.coverage - max((m.coverage for m in ranked[1:]), default=0.0),
        "focus_agreement": top.focus_agreement,
        "asks_a_focus": float(asks_a_focus),
        "content_words": math.log1p(len(content_words)),
        "unknown_share": unknown / total if total else 0.0,
        "parent": float(audience == "parent"),
        "follow_up": float(follow_up),
        "classifier": top.classifier,
        "classifier_first": float(top.classifier_rank == 0),
        # How far the classifier's own first choice is ahead of the retriever's (0 when they agree).
        "classifier_lead": max((m.classifier for m in ranked), default=top.classifier) - top.classifier,
    }


@dataclass(frozen=True)
class RiskModel:
    """Standardised logistic regression and the probability above which the policy answers."""

    means: Tuple[float, ...]
    scales: Tuple[float, ...]
    weights: Tuple[float, ...]
    intercept: float
    threshold: float
    names: Tuple[str, ...] = FEATURES
    # How the operating point was chosen, and what it bought (cross-validated): shown by `make eval`.
    measured: Dict[str, float] = field(default_factory=dict)
    # A follow-up ("et en CAP ?") is read with the previous question's subject, which can mislead: it has
    # an operating point of its own, under the same budget among follow-ups (None: the same as the others).
    follow_up_threshold: Optional[float] = None

    def probability(self, values: Mapping[str, float]) -> float:
        x = (np.array([values[name] for name in self.names]) - np.array(self.means)) / np.array(self.scales)
        return float(1.0 / (1.0 + math.exp(-(float(np.dot(self.weights, x)) + self.intercept))))

    def threshold_for(self, values: Mapping[str, float]) -> float:
        if values.get("follow_up") and self.follow_up_threshold is not None:
            return self.follow_up_threshold
        return self.threshold

    def answers(self, values: Mapping[str, float]) -> bool:
        return self.probability(values) >= self.threshold_for(values)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "RiskModel":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def fit(rows: Sequence[Mapping[str, float]], right: Sequence[bool], *, threshold: float = 0.5,
        follow_up_threshold: Optional[float] = None, names: Sequence[str] = FEATURES,
        measured: Optional[Dict[str, float]] = None) -> RiskModel:
    """A logistic regression of "the first choice is right" on the features (scikit-learn, deterministic).

    ``names``: the features it reads (all of them when served; fewer to measure what one brings).
    """
    from sklearn.linear_model import LogisticRegression

    x = np.array([[row[name] for name in names] for row in rows], dtype=float)
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=1000).fit((x - means) / scales, np.array(right, dtype=int))
    return RiskModel(tuple(means.round(6)), tuple(scales.round(6)), tuple(model.coef_[0].round(6)),
                     round(float(model.intercept_[0]), 6), threshold, tuple(names), dict(measured or {}),
                     follow_up_threshold)


def operating_point(probabilities: Sequence[float], right: Sequence[Optional[bool]], *, budget: float) -> float:
    """The lowest threshold whose answers are wrong on at most ``budget`` of all the questions.

    ``right[i]`` is None for a question that would not reach the risk model (nothing retrieved):
    it counts in the denominator, never as an answer.
    """
    order = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])
    allowed = budget * len(probabilities)
    wrong, threshold = 0, 1.0
    for i in order:
        if right[i] is None:
            continue
        wrong += not right[i]
        if wrong > allowed:
            break
        threshold = probabilities[i]
    return float(threshold)


def operating_points(probabilities: Sequence[float], right: Sequence[Optional[bool]], follow_ups: Sequence[bool],
                     *, budget: float) -> Tuple[float, float]:
    """The operating points of standalone questions and of follow-ups, each within ``budget`` of its own kind."""
    points = []
    for kind in (False, True):
        chosen = [i for i in range(len(probabilities)) if follow_ups[i] == kind]
        points.append(operating_point([probabilities[i] for i in chosen], [right[i] for i in chosen], budget=budget)
                      if chosen else 1.0)
    return points[0], points[1]


def curve(probabilities: Sequence[float], right: Sequence[Optional[bool]]) -> List[Tuple[float, float, float]]:
    """(threshold, coverage, risk) over all questions, most confident first: the coverage-risk curve."""
    order = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])
    n, answered, wrong, points = len(probabilities), 0, 0, []
    for i in order:
        if right[i] is None:
            continue
        answered += 1
        wrong += not right[i]
        points.append((probabilities[i], answered / n, wrong / n))
    return points
