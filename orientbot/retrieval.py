"""Nearest-neighbour retrieval over the KB's question variants.

Owns the second opinion the answer gate asks for: how close an incoming
question is to the ways each KB entry was actually asked.  Character n-grams
(robust to typos) and word n-grams over normalised text, cosine similarity,
best variant per entry.  Built from a ``KnowledgeBase`` on first use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer

from orientbot.kb import KnowledgeEntry
from orientbot.normalise import normalise


@dataclass(frozen=True)
class Match:
    kb_id: str
    score: float


class Retriever:
    def __init__(self, entries: Sequence[KnowledgeEntry]) -> None:
        texts: List[str] = []
        owners: List[str] = []
        for entry in entries:
            for question in {normalise(v.text) for v in entry.variants} | {normalise(entry.title)}:
                if question:
                    texts.append(question)
                    owners.append(entry.id)
        self._owners = np.array(owners)
        self._entry_ids = sorted(set(owners))
        self._empty = not texts
        if self._empty:
            return
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)
        self._words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        self._matrix = self._stack(self._chars.fit_transform(texts), self._words.fit_transform(texts))

    @staticmethod
    def _stack(chars, words):
        # Equal weight to both views; each block is L2-normalised, so scale to keep the norm at 1.
        return hstack([chars * np.sqrt(0.5), words * np.sqrt(0.5)]).tocsr()

    def search(self, question: str, *, limit: int = 5) -> List[Match]:
        folded = normalise(question)
        if self._empty or not folded:
            return []
        query = self._stack(self._chars.transform([folded]), self._words.transform([folded]))
        scores = (self._matrix @ query.T).toarray().ravel()
        best: dict = {}
        for owner, score in zip(self._owners, scores):
            if score > best.get(owner, -1.0):
                best[owner] = float(score)
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)[:limit]
        return [Match(kb_id, score) for kb_id, score in ranked]
