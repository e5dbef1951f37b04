"""DIET and the ResponseSelector stop deep-copying feature matrices they throw away (issue 13).

To give a classifier a message's features, Rasa 3.6 (``Message._combine_features``) deep-copies the first
featuriser's ``Features`` (its sparse matrix included) and then replaces that copy's matrix by the matrices
stacked side by side; and ``model_data_utils._create_fake_features`` deep-copies a ``Features`` (its matrix
included) to replace its matrix by an empty one. Both copies are thrown away, twice a message (DIET, then the
ResponseSelector), with the ~100-column-per-token matrices of the count-vector featurisers: copy.deepcopy's
walk was ~0.1 ms of CPU a message (measured as for ``count_vectors_patch``). Here the ``Features`` object is copied without its matrix (its other
attributes are strings or None; the featurisers' names, ``origin``, are deep-copied as before), and the
matrix is deep-copied only when it is kept (a single featuriser). The same features, so the same predictions
(``tests/bot/test_nlu_speed_patches.py``).

How it is applied: as ``validation_patch``, imported with ``bot.components`` when the Rasa server loads the
model, without retraining. ``ORIENTBOT_FEATURES_SHALLOW_COPY=0`` leaves Rasa's functions in place (to measure
the difference).
"""
from __future__ import annotations

import copy
from typing import List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow import model_data_utils

from bot.components.switches import switched_off

ENV_SWITCH = "ORIENTBOT_FEATURES_SHALLOW_COPY"
ORIGINAL_COMBINE = Message.__dict__["_combine_features"]  # a staticmethod
ORIGINAL_FAKE = model_data_utils._create_fake_features


def _copy_without_matrix(features: Features) -> Features:
    """``copy.deepcopy(features)`` but for the matrix, which the copy shares until it is replaced."""
    copied = copy.copy(features)
    copied.origin = copy.deepcopy(features.origin)
    return copied


def combine_features(features: List[Features], featurizers: List[Text]) -> Optional[Features]:
    """``Message._combine_features``: the first ``Features`` copied, then the others stacked onto it."""
    combined: Optional[Features] = None
    for f in features:
        if combined is None:
            combined = _copy_without_matrix(f)
            combined.origin = featurizers
        else:
            combined.combine_with_features(f)  # a new matrix (scipy's hstack, numpy's concatenate)
    if combined is not None and combined.features is features[0].features:  # kept as it was: a copy of its own
        combined.features = copy.deepcopy(features[0].features)
    return combined


def create_fake_features(all_features: List[List[List[Features]]]) -> List[Features]:
    """``model_data_utils._create_fake_features``: empty matrices of the example's widths and dtypes."""
    example_features = next(iter([
        list_of_features
        for list_of_list_of_features in all_features
        for list_of_features in list_of_list_of_features
        if list_of_features is not None
    ]))
    fake_features = []
    for _features in example_features:
        new_features = _copy_without_matrix(_features)
        if _features.is_dense():
            new_features.features = np.zeros((0, _features.features.shape[-1]), _features.features.dtype)
        if _features.is_sparse():
            new_features.features = scipy.sparse.coo_matrix((0, _features.features.shape[-1]),
                                                            _features.features.dtype)
        fake_features.append(new_features)
    return fake_features


combine_features.orientbot_shallow = True  # type: ignore[attr-defined]
create_fake_features.orientbot_shallow = True  # type: ignore[attr-defined]


def install() -> bool:
    """Puts the patched functions in place (idempotent); False when switched off by the environment."""
    if switched_off(ENV_SWITCH):
        return False
    Message._combine_features = staticmethod(combine_features)  # type: ignore[assignment]
    model_data_utils._create_fake_features = create_fake_features
    return True


def uninstall() -> None:
    """Puts Rasa's own functions back (to measure, and for the tests' comparison)."""
    Message._combine_features = ORIGINAL_COMBINE  # type: ignore[assignment]
    model_data_utils._create_fake_features = ORIGINAL_FAKE


def installed() -> bool:
    return (getattr(Message.__dict__["_combine_features"].__func__, "orientbot_shallow", False)
            and getattr(model_data_utils._create_fake_features, "orientbot_shallow", False))


install()
