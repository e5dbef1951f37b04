"""Nearest-neighbour retrieval over the KB's question variants and answers.

Owns the second opinion the answer gate asks for: how close an incoming
question is to the ways each KB entry was actually asked (best variant), plus
how much it shares with the entry's answer (people ask with the words the
answer uses).  An entry's question score blends its single closest variant
with the centroid of all its variants: one stray variant that happens to
share words with the question weighs less than what the entry is asked about
as a whole (held-out top-1 0.85 -> 0.89).  Character n-grams (robust to typos) and word n-grams over
normalised text, cosine similarity.  Weights were chosen on held-out questions
(``scripts/calibrate_gate.py``); spaCy word vectors were tried here and lowered
top-1 accuracy (0.79 -> 0.73), so they are not used.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np
from scipy.sparse import csr_matrix, diags, hstack
from sklearn.feature_extraction.text import TfidfVectorizer

from orientbot.kb import KnowledgeEntry
from orientbot.normalise import normalise


@dataclass(frozen=True)
class Match:
    kb_id: str
    score: float


CHAR_WEIGHT = 0.7
ANSWER_WEIGHT = 0.8
# Share of the variants' centroid in an entry's question score (the rest: its closest variant).
CENTROID_WEIGHT = 0.8


class Retriever:
    def __init__(self, entries: Sequence[KnowledgeEntry]) -> None:
        texts: List[str] = []
        owners: List[str] = []
        for entry in entries:
            for question in sorted({normalise(v.text) for v in entry.variants} | {normalise(entry.title)}):
                if question:
                    texts.append(question)
                    owners.append(entry.id)
        self._entry_ids = [entry.id for entry in entries]
        answers = [normalise(f"{entry.answer_eleve} {entry.answer_parent}") for entry in entries]
        self._empty = not texts
        if self._empty:
            return
        self._column = {kb_id: i for i, kb_id in enumerate(self._entry_ids)}
        self._owner_columns = np.array([self._column[o] for o in owners])
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True).fit(texts + answers)
        self._words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True).fit(texts + answers)
        self._questions = self._vectorise(texts)
        self._answers = self._vectorise(answers)
        self._centroids = _unit_rows(
            csr_matrix((np.ones(len(owners)), (self._owner_columns, np.arange(len(owners)))),
                       shape=(len(self._entry_ids), len(owners))) @ self._questions
        )

    def _vectorise(self, texts):
        # Each block is L2-normalised; the square roots keep the stacked norm at 1.
        return hstack([
            self._chars.transform(texts) * np.sqrt(CHAR_WEIGHT),
            self._words.transform(texts) * np.sqrt(1 - CHAR_WEIGHT),
        ]).tocsr()

    def search(self, question: str, *, limit: int = 5) -> List[Match]:
        folded = normalise(question)
        if self._empty or not folded:
            return []
        query = self._vectorise([folded])
        by_variant = (self._questions @ query.T).toarray().ravel()
        best_variant = np.zeros(len(self._entry_ids))
        np.maximum.at(best_variant, self._owner_columns, by_variant)
        by_centroid = (self._centroids @ query.T).toarray().ravel()
        by_question = (1 - CENTROID_WEIGHT) * best_variant + CENTROID_WEIGHT * by_centroid
        by_answer = (self._answers @ query.T).toarray().ravel()
        scores = (by_question + ANSWER_WEIGHT * by_answer) / (1 + ANSWER_WEIGHT)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [Match(self._entry_ids[i], float(scores[i])) for i in order]


def _unit_rows(matrix):
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (diags(1.0 / norms) @ matrix).tocsr()
