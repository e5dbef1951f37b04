"""Rasa's prediction graph called directly, with the same outputs (bot/components/tf_predict_patch.py, issue 13)."""
from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from rasa.utils.tensorflow.models import RasaModel

import bot.components  # noqa: F401  (what the Rasa server imports when it loads the model)
from bot.components import tf_predict_patch


class Tiny(RasaModel):
    """A RasaModel with two inputs of the shapes Rasa's batches have (a batch of rows, a batch of ids)."""

    def __init__(self):
        super().__init__(random_seed=1)
        self.weights_ = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3) / 7)

    def batch_predict(self, batch_in):
        rows, ids = batch_in
        return {"scores": tf.nn.softmax(tf.matmul(rows, self.weights_)), "ids": ids * 2,
                "diagnostic_data": {"sum": tf.reduce_sum(rows, axis=-1)}}


def batches():
    rng = np.random.default_rng(3)
    return [(rng.random((n, 4), dtype=np.float32), np.arange(n, dtype=np.int64)) for n in (1, 1, 3, 1, 5)]


def test_the_patch_is_in_place_once_the_components_are_imported():
    assert tf_predict_patch.installed()
    assert RasaModel._rasa_predict is tf_predict_patch.rasa_predict


def test_the_same_outputs_as_rasas_tf_function(monkeypatch):
    patched, rasas = Tiny(), Tiny()
    direct_calls = []
    original_call = tf_predict_patch.DirectPredict.__call__
    monkeypatch.setattr(tf_predict_patch.DirectPredict, "__call__",
                        lambda self, batch: direct_calls.append(len(batch[0])) or original_call(self, batch))
    for batch in batches():
        ours = patched._rasa_predict(batch)
        theirs = tf_predict_patch.ORIGINAL(rasas, batch)
        assert ours.keys() == theirs.keys()
        for key in ("scores", "ids"):
            assert ours[key].dtype == theirs[key].dtype and np.array_equal(ours[key], theirs[key])
        assert np.array_equal(ours["diagnostic_data"]["sum"], theirs["diagnostic_data"]["sum"])
    assert isinstance(patched._tf_predict_step, tf_predict_patch.DirectPredict)
    assert not isinstance(rasas._tf_predict_step, tf_predict_patch.DirectPredict)
    assert direct_calls == [1, 3, 1, 5]  # every prediction after the first (which makes the tf.function)


def test_inputs_that_do_not_fit_go_through_the_tf_function():
    model = Tiny()
    for batch in batches()[:2]:
        model._rasa_predict(batch)
    assert isinstance(model._tf_predict_step, tf_predict_patch.DirectPredict)
    wrong_width = (np.ones((2, 5), dtype=np.float32), np.arange(2, dtype=np.int64))
    with pytest.raises((ValueError, TypeError)):  # TensorFlow's own refusal, as without the patch
        model._rasa_predict(wrong_width)
    rasas = Tiny()
    tf_predict_patch.ORIGINAL(rasas, batches()[0])
    with pytest.raises((ValueError, TypeError)):
        tf_predict_patch.ORIGINAL(rasas, wrong_width)
