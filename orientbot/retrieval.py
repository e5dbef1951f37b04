"""Nearest-neighbour retrieval over the KB's question variants and answers.

Owns the second opinion the answer gate asks for: how close an incoming
question is to the ways each KB entry was actually asked (best variant), plus
how much it shares with the entry's answer (people ask with the words the
answer uses).  An entry's question score blends its single closest variant
with the centroid of all its variants: one stray variant that happens to
share words with the question weighs less than what the entry is asked about
as a whole.  Character n-grams (robust to typos) and word n-grams over
normalised text, cosine similarity; a linear classifier trained on the variants
is the second view, which the risk model reads beside the first (ranking on a
blend of both raised top-1 but not the answers served: README "Measuring a change").
The weights are settings (``RetrievalSettings``), chosen by cross-validation over
the transcripts (``knowledge.tune``); spaCy word vectors were tried as a third view
and brought nothing measurable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np
from scipy.sparse import csr_matrix, diags, hstack
from sklearn.feature_extraction.text import TfidfVectorizer

from orientbot.cues import FOCUS, focus_of
from orientbot.kb import KnowledgeEntry
from orientbot.normalise import STOPWORDS, normalise
from orientbot.settings import RetrievalSettings


@dataclass(frozen=True)
class Match:
    kb_id: str
    score: float


@dataclass(frozen=True)
class Scored(Match):
    """A candidate with what its score is made of: the answer policy's risk model reads these."""

    best_variant: float = 0.0
    centroid: float = 0.0
    answer: float = 0.0
    # Share of the question's content words (weighted by rarity) that the entry's questions or answers use.
    coverage: float = 0.0
    # Share of the entry's questions that ask what this one asks (an amount, a date...); 1.0 when it asks nothing special.
    focus_agreement: float = 1.0
    # The second view: a linear classifier trained on the variants, its score for this entry and its rank (0: first).
    classifier: float = 0.0
    classifier_rank: int = 0


class Retriever:
    def __init__(self, entries: Sequence[KnowledgeEntry], weights: RetrievalSettings = RetrievalSettings()) -> None:
        self._weights = weights
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
        self._idf = dict(zip(self._words.get_feature_names_out(), self._words.idf_))
        self._max_idf = float(max(self._idf.values(), default=1.0))
        vocabulary: dict = {kb_id: set() for kb_id in self._entry_ids}
        for owner, text in zip(owners, texts):
            vocabulary[owner].update(text.split())
        for kb_id, answer in zip(self._entry_ids, answers):
            vocabulary[kb_id].update(answer.split())
        self._vocabulary = vocabulary
        asked: dict = {kb_id: [] for kb_id in self._entry_ids}
        for owner, text in zip(owners, texts):
            asked[owner].append(focus_of(text, already_normalised=True))
        self._focus_share = {
            kb_id: {name: sum(name in f for f in found) / len(found) for name in FOCUS} for kb_id, found in asked.items()
        }
        self._questions = self._vectorise(texts)
        self._classifier = _entry_classifier(self._questions, owners)
        self._classifier_columns = ([self._column[c] for c in self._classifier.classes_]
                                    if self._classifier is not None else [])
        self._answers = self._vectorise(answers)
        self._centroids = _unit_rows(
            csr_matrix((np.ones(len(owners)), (self._owner_columns, np.arange(len(owners)))),
                       shape=(len(self._entry_ids), len(owners))) @ self._questions
        )

    def _vectorise(self, texts):
        # Each block is L2-normalised; the square roots keep the stacked norm at 1.
        return hstack([
            self._chars.transform(texts) * np.sqrt(self._weights.char_weight),
            self._words.transform(texts) * np.sqrt(1 - self._weights.char_weight),
        ]).tocsr()

    def search(self, question: str, *, limit: int = 5) -> List[Match]:
        return [Match(m.kb_id, m.score) for m in self.rank(question, limit=limit)]

    def rank(self, question: str, *, limit: int = 5) -> List[Scored]:
        """The closest entries, best first, with the parts of their scores."""
        folded = normalise(question)
        if self._empty or not folded:
            return []
        query = self._vectorise([folded])
        # A sparse matrix times a dense vector: the sparse-by-sparse products cost 2.2 of the policy's 5.8 ms a
        # message (scripts/bench_policy.py, 2026-12-05).
        dense = query.toarray().ravel()
        weights = self._weights
        by_variant = self._questions @ dense
        best_variant = np.zeros(len(self._entry_ids))
        np.maximum.at(best_variant, self._owner_columns, by_variant)
        by_centroid = self._centroids @ dense
        by_question = (1 - weights.centroid_weight) * best_variant + weights.centroid_weight * by_centroid
        by_answer = self._answers @ dense
        scores = (by_question + weights.answer_weight * by_answer) / (1 + weights.answer_weight)
        by_classifier, classifier_rank = self._classify(query)
        order = np.argsort(-scores, kind="stable")[:limit]
        words, focus = self.content_words(folded), focus_of(folded, already_normalised=True)
        return [
            Scored(self._entry_ids[i], float(scores[i]), float(best_variant[i]), float(by_centroid[i]),
                   float(by_answer[i]), self._coverage(words, self._entry_ids[i]),
                   self._focus_agreement(focus, self._entry_ids[i]),
                   float(by_classifier[i]), int(classifier_rank[i]))
            for i in order
        ]

    def _classify(self, query):
        """The classifier's decision value for every entry (-1 for one it has no class for) and its rank (0: first)."""
        values = np.full(len(self._entry_ids), -1.0)
        if self._classifier is None:
            return values, np.full(len(self._entry_ids), len(self._entry_ids))
        decision = self._classifier.decision_function(query)
        if len(self._classifier.classes_) == 2:
            decision = np.array([-decision[0], decision[0]])
        values[self._classifier_columns] = decision.ravel()
        ranks = np.empty(len(self._entry_ids), dtype=int)
        ranks[np.argsort(-values, kind="stable")] = np.arange(len(self._entry_ids))
        return values, ranks

    def content_words(self, folded: str) -> dict:
        """The question's content words, each weighed by its rarity in the KB (unknown words weigh most)."""
        if self._empty:
            return {w: 1.0 for w in folded.split() if len(w) > 2 and w not in STOPWORDS}
        return {w: self._idf.get(w, self._max_idf) for w in folded.split() if len(w) > 2 and w not in STOPWORDS}

    def knows(self, word: str) -> bool:
        """Whether any entry's questions or answers use this (normalised) word."""
        return not self._empty and word in self._idf

    def _focus_agreement(self, focus, kb_id: str) -> float:
        if not focus:
            return 1.0
        share = self._focus_share[kb_id]
        return max(share[name] for name in focus)

    def _coverage(self, words: dict, kb_id: str) -> float:
        total = sum(words.values())
        if not total:
            return 1.0
        known = self._vocabulary[kb_id]
        return sum(weight for word, weight in words.items() if word in known) / total


def _entry_classifier(questions, owners: Sequence[str]):
    """A linear SVM from a question's n-grams to its entry: the view that learns which words tell entries apart."""
    if len(set(owners)) < 2:
        return None
    from sklearn.svm import LinearSVC

    return LinearSVC(C=1.0).fit(questions, owners)


def _unit_rows(matrix):
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return (diags(1.0 / norms) @ matrix).tocsr()
