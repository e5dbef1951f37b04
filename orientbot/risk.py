"""The probability that answering a question with the retriever's first choice is right.

Owns the risk model the answer policy abstains by: a logistic regression over what the retriever
says of its candidates (scores, margin, how much of the question's rare words the entry covers,
whether the entry's questions ask what this one asks), fitted on cross-validated predictions over
the transcripts (``knowledge.crossval``), and the operating point chosen there for a budget of wrong
answers.  Nothing here is set by hand: the model file says where and how it was measured.

Each continuous feature enters through a quadratic B-spline basis (knots at its quantiles), not as one
straight weight: the chance of being right climbs steeply over a narrow band of scores and is flat
elsewhere, which one weight per feature cannot follow (an additive model; README "Measuring a change").
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
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


@lru_cache(maxsize=None)
def _spline(knots: Tuple[float, ...], degree: int):
    """The B-spline basis over these knots: scikit-learn's ``SplineTransformer``, rebuilt from the knots the
    model file keeps; its scipy spline is called directly on the value clipped to the knots (what its
    "constant" extrapolation does), 1 ms less per message than ``transform`` with 13 splined features."""
    from sklearn.preprocessing import SplineTransformer

    basis = SplineTransformer(knots=np.array(knots)[:, None], degree=degree, extrapolation="constant")
    return basis.fit(np.array([[knots[0]], [knots[-1]]])).bsplines_[0]


def _knots(column: np.ndarray, count: int) -> Tuple[float, ...]:
    """Knots at the column's quantiles; none (a straight weight) for a flag or a feature with few values."""
    knots = np.unique(np.quantile(column, np.linspace(0.0, 1.0, count)).round(6))
    return tuple(float(k) for k in knots) if count >= 2 and len(knots) == count else ()


def _expand(x: np.ndarray, knots: Sequence[Tuple[float, ...]], degree: int) -> np.ndarray:
    """Rows of standardised features -> the columns the regression weighs (a feature's basis, or itself)."""
    if not any(knots):
        return x
    columns = [(_spline(k, degree)(np.clip(x[:, j], k[0], k[-1])) if k else x[:, [j]]) for j, k in enumerate(knots)]
    return np.hstack(columns)


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
    # Per feature, the knots of its spline over the standardised value; empty: one straight weight.
    knots: Tuple[Tuple[float, ...], ...] = ()
    degree: int = 2

    def probability(self, values: Mapping[str, float]) -> float:
        x = (np.array([[values[name] for name in self.names]]) - np.array(self.means)) / np.array(self.scales)
        z = float(np.dot(self.weights, _expand(x, self.knots, self.degree)[0])) + self.intercept
        return float(1.0 / (1.0 + math.exp(-z)))

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
        data["knots"] = tuple(tuple(k) for k in data.get("knots", ()))
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True)
class Shape:
    """How flexible the fitted model is: knots per continuous feature (0: straight weights), the splines'
    degree, and the regression's inverse regularisation (``GateSettings`` holds the measured values)."""

    knots: int = 0
    degree: int = 2
    regularisation: float = 1.0


def fit(rows: Sequence[Mapping[str, float]], right: Sequence[bool], *, threshold: float = 0.5,
        follow_up_threshold: Optional[float] = None, names: Sequence[str] = FEATURES,
        measured: Optional[Dict[str, float]] = None, shape: Shape = Shape()) -> RiskModel:
    """A logistic regression of "the first choice is right" on the features (scikit-learn, deterministic).

    ``names``: the features it reads (all of them when served; fewer to measure what one brings).
    """
    from sklearn.linear_model import LogisticRegression

    x = np.array([[row[name] for name in names] for row in rows], dtype=float)
    means, scales = x.mean(axis=0).round(6), x.std(axis=0).round(6)
    scales[scales == 0] = 1.0
    standard = (x - means) / scales
    knots = tuple(_knots(standard[:, j], shape.knots) for j in range(len(names)))
    expanded = _expand(standard, knots, shape.degree)
    model = LogisticRegression(C=shape.regularisation, max_iter=3000).fit(expanded, np.array(right, dtype=int))
    return RiskModel(tuple(float(m) for m in means), tuple(float(s) for s in scales), tuple(model.coef_[0].round(6)),
                     round(float(model.intercept_[0]), 6), threshold, tuple(names), dict(measured or {}),
                     follow_up_threshold, knots if any(knots) else (), shape.degree)


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
