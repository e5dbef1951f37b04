"""The count-vector featurisers remember each token's row of counts instead of asking sklearn again (issue 13).

Rasa 3.6's ``CountVectorsFeaturizer._create_features`` calls sklearn's ``CountVectorizer.transform`` twice a
message and featuriser (the tokens one per row, then the sentence): for a handful of tokens sklearn's
per-call checks and sparse construction are most of the cost, and the same tokens come back message after
message. A row of that matrix depends only on its token (``transform`` counts each document alone), so here
each token's row (its sorted column indices and counts) is kept once computed, the tokens not yet seen and the
sentence go to sklearn in one ``transform`` call, and the COO matrix Rasa keeps (``transform(...).tocoo()``) is made from the
rows as ``tocoo`` makes it (same rows, columns, counts, dtypes and shape); the sentence's row is kept by its
text the same way. Each cache is tied to its vectoriser and to its vocabulary (a vocabulary replaced or grown
empties it) and is bounded (``MAX_TOKENS``, ``MAX_SENTENCES``: the oldest entries go first). 88 % of the askers' tokens in the transcripts
were seen in an earlier message. Measured in-process (200 askers' messages of the transcripts, the other NLU
patches on, this one off and on, alternated): ~0.65 ms of CPU a message less; the same parse
(``tests/bot/test_nlu_speed_patches.py``).

How it is applied: as ``validation_patch``, imported with ``bot.components`` when the Rasa server loads the
model, without retraining. ``ORIENTBOT_COUNT_VECTORS_CACHE=0`` leaves Rasa's method in place (to measure the
difference). Each worker process has its own caches.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import numpy as np
import scipy.sparse
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES  # the list Rasa's method reads
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer

from bot.components.switches import switched_off

ENV_SWITCH = "ORIENTBOT_COUNT_VECTORS_CACHE"
ORIGINAL = CountVectorsFeaturizer.__dict__["_create_features"]
MAX_TOKENS = 20000  # per vectoriser: a token's row is a few dozen numbers
MAX_SENTENCES = 2000

Row = Tuple[np.ndarray, np.ndarray]  # sorted column indices, counts


class RowCache:
    """The rows one vectoriser gave, for the vocabulary it had."""

    def __init__(self, vectorizer: Any):
        self.vocabulary = vectorizer.vocabulary_
        self.size = len(self.vocabulary)
        self.tokens: Dict[Text, Row] = {}
        self.sentences: Dict[Text, Row] = {}
        self.lock = threading.Lock()

    def fits(self, vectorizer: Any) -> bool:
        vocabulary = getattr(vectorizer, "vocabulary_", None)
        return vocabulary is self.vocabulary and len(vocabulary) == self.size


_caches: "weakref.WeakKeyDictionary[Any, RowCache]" = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _cache_for(vectorizer: Any) -> RowCache:
    vectorizer._check_vocabulary()  # what ``transform`` does first: a loaded vocabulary made ``vocabulary_``, or its error
    cache = _caches.get(vectorizer)
    if cache is None or not cache.fits(vectorizer):
        cache = RowCache(vectorizer)
        with _caches_lock:
            _caches[vectorizer] = cache
    return cache


def _remember(store: Dict[Text, Row], found: Dict[Text, Row], limit: int, lock: threading.Lock) -> None:
    with lock:
        for key, row in found.items():
            if len(store) >= limit:
                del store[next(iter(store))]  # the oldest
            store[key] = row


def _rows(vectorizer: Any, cache: RowCache, tokens: Sequence[Text],
          sentence: Optional[Text]) -> Tuple[List[Row], Optional[Row]]:
    """Each token's row and the sentence's, from the cache or from one ``transform`` of those not seen."""
    known = {token: cache.tokens.get(token) for token in tokens}
    missing = [token for token, row in known.items() if row is None]
    sentence_row = cache.sentences.get(sentence) if sentence is not None else None
    documents = missing + ([sentence] if sentence is not None and sentence_row is None else [])
    if documents:
        matrix = vectorizer.transform(documents)  # each document counted alone: the rows of separate calls
        matrix.sort_indices()
        rows = [(matrix.indices[matrix.indptr[i]:matrix.indptr[i + 1]].copy(),
                 matrix.data[matrix.indptr[i]:matrix.indptr[i + 1]].copy()) for i in range(len(documents))]
        found = dict(zip(missing, rows))
        known.update(found)
        _remember(cache.tokens, found, MAX_TOKENS, cache.lock)
        if len(rows) > len(missing):
            sentence_row = rows[-1]
            _remember(cache.sentences, {sentence: sentence_row}, MAX_SENTENCES, cache.lock)  # type: ignore[dict-item]
    return [known[token] for token in tokens], sentence_row  # type: ignore[misc]


def _matrix(rows: List[Row], columns: int) -> scipy.sparse.coo_matrix:
    """``transform(...).tocoo()`` for these rows: a row index per count, then scipy's COO constructor as in ``tocoo``.

    sklearn builds a CSR matrix with sorted indices; its ``tocoo`` expands the row pointers into one row index per
    stored count and passes the counts, rows and columns to the COO constructor, which picks the same index dtype
    from the shape: the same arrays, dtypes and shape as here.
    """
    lengths = [len(indices) for indices, _ in rows]
    columns_of = np.concatenate([r[0] for r in rows])
    row_of = np.repeat(np.arange(len(rows), dtype=columns_of.dtype), lengths)
    data = np.concatenate([r[1] for r in rows])
    return scipy.sparse.coo_matrix((data, (row_of, columns_of)), shape=(len(rows), columns), dtype=data.dtype)


def create_features(self: CountVectorsFeaturizer, attribute: Text, all_tokens: List[List[Text]]) -> Tuple[
        List[Optional[scipy.sparse.spmatrix]], List[Optional[scipy.sparse.spmatrix]]]:
    """``CountVectorsFeaturizer._create_features``, with each token's and sentence's row remembered."""
    vectorizer = self.vectorizers.get(attribute)
    if not vectorizer:
        return [None], [None]
    sequence_features: List[Optional[scipy.sparse.spmatrix]] = []
    sentence_features: List[Optional[scipy.sparse.spmatrix]] = []
    for tokens in all_tokens:
        if not tokens:
            sequence_features.append(None)
            sentence_features.append(None)
            continue
        cache = _cache_for(vectorizer)
        sentence = " ".join(tokens) if attribute in DENSE_FEATURIZABLE_ATTRIBUTES else None
        rows, sentence_row = _rows(vectorizer, cache, tokens, sentence)
        sequence_features.append(_matrix(rows, cache.size))
        sentence_features.append(None if sentence_row is None else _matrix([sentence_row], cache.size))
    return sequence_features, sentence_features


create_features.orientbot_cached = True  # type: ignore[attr-defined]


def install() -> bool:
    """Puts the patched method in place (idempotent); False when switched off by the environment."""
    if switched_off(ENV_SWITCH):
        return False
    CountVectorsFeaturizer._create_features = create_features  # type: ignore[assignment]
    return True


def uninstall() -> None:
    """Puts Rasa's own method back (to measure, and for the tests' comparison)."""
    CountVectorsFeaturizer._create_features = ORIGINAL  # type: ignore[assignment]


def installed() -> bool:
    return getattr(CountVectorsFeaturizer.__dict__["_create_features"], "orientbot_cached", False)


install()
