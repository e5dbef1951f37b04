"""DIET and the ResponseSelector call their compiled prediction graph directly (issue 13), patched at import.

Rasa 3.6 predicts through a ``tf.function`` with an input signature (``RasaModel._rasa_predict``). Each call,
TensorFlow canonicalises the inputs, looks its graph up in its cache by their specs and checks them again
before running it: about half of the CPU of a prediction on these small models, twice a message. Here, once
that ``tf.function`` exists (Rasa makes it on the first prediction), its one graph
(``get_concrete_function()``: with an input signature there is one) is called with the inputs converted the
way the ``tf.function`` converts them; inputs that do not fit the signature go through the ``tf.function``
as before. The graph, the weights and so the outputs are the same (compared on 302 predictions: identical
arrays, ``tests/bot/test_tf_predict_patch.py`` checks a model of its own). Numpy arrays of the signature's
numeric dtypes and accepted shapes (Rasa's batches) become tensors by ``constant_op.convert_to_eager_tensor``,
the function ``convert_to_tensor`` ends in, without TensorFlow's dispatch and spec checks in Python: ~0.6 ms of
CPU a message less (two predictions), the same tensors (``tests/bot/test_nlu_speed_patches.py``).

How it is applied: as ``validation_patch``, imported with ``bot.components`` when the Rasa server loads the
model. ``ORIENTBOT_DIRECT_TF_PREDICT=0`` leaves Rasa's method in place (to measure the difference).
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import tensorflow as tf
from rasa.utils.tensorflow.models import RasaModel
from tensorflow.python.eager import context
from tensorflow.python.framework import constant_op
from tensorflow.python.util import nest

from bot.components.switches import switched_off

logger = logging.getLogger(__name__)
ENV_SWITCH = "ORIENTBOT_DIRECT_TF_PREDICT"
ORIGINAL = RasaModel.__dict__["_rasa_predict"]


class DirectPredict:
    """Stands for the model's ``tf.function``: calls its graph directly when the inputs fit its signature."""

    def __init__(self, function: Any):
        self.function = function
        self.graph = function.get_concrete_function()
        self.specs = nest.flatten(self.graph.structured_input_signature[0])
        # For numpy arrays of the spec's numeric dtype and a shape it accepts, the tensor ``convert_to_tensor``
        # makes (``constant_op.convert_to_eager_tensor`` of the array) is made directly, without its dispatch
        # and the spec's checks in TensorFlow's Python (~0.15 ms a prediction); anything else goes below.
        self.numpy_specs = [(spec.dtype.as_numpy_dtype, spec.dtype,
                             None if spec.shape.rank is None else tuple(spec.shape.as_list())) for spec in self.specs]

    def _numpy_tensors(self, batch_in: Sequence[Any]) -> Any:
        tensors = []
        ctx = context.context()
        for value, (numpy_dtype, dtype, dims) in zip(batch_in, self.numpy_specs):
            if not isinstance(value, np.ndarray) or value.dtype != numpy_dtype or value.dtype.kind not in "biuf":
                return None
            if dims is not None and (value.ndim != len(dims)
                                     or any(d is not None and d != n for d, n in zip(dims, value.shape))):
                return None
            tensors.append(constant_op.convert_to_eager_tensor(value, ctx, dtype))
        return tensors

    def __call__(self, batch_in: Sequence[Any]) -> Any:
        if len(batch_in) == len(self.specs):
            tensors = self._numpy_tensors(batch_in)
            if tensors is not None:
                return self.graph._call_flat(tensors, self.graph.captured_inputs)
            tensors = [tf.convert_to_tensor(value, dtype_hint=spec.dtype) for value, spec in zip(batch_in, self.specs)]
            if all(spec.is_compatible_with(tensor) for spec, tensor in zip(self.specs, tensors)):
                return self.graph._call_flat(tensors, self.graph.captured_inputs)
        return self.function(batch_in)  # TensorFlow's own path, its own error


def rasa_predict(self: RasaModel, batch_in: Any) -> Any:
    """``RasaModel._rasa_predict``, with the model's ``tf.function`` called directly once Rasa has made it."""
    step = self._tf_predict_step
    if (step is not None and not isinstance(step, DirectPredict) and not self._run_eagerly
            and not getattr(self, "_orientbot_direct_refused", False)):
        try:
            self._tf_predict_step = DirectPredict(step)
        except Exception as error:  # a function this patch does not know how to call directly: Rasa's way, said once
            self._orientbot_direct_refused = True
            logger.warning("DIET's prediction goes through tf.function as in Rasa: %s", error)
    return ORIGINAL(self, batch_in)


rasa_predict.orientbot_direct = True  # type: ignore[attr-defined]


def install() -> bool:
    """Puts the patched method in place (idempotent); False when switched off by the environment."""
    if switched_off(ENV_SWITCH):
        return False
    RasaModel._rasa_predict = rasa_predict  # type: ignore[assignment]
    return True


def installed() -> bool:
    return getattr(RasaModel.__dict__["_rasa_predict"], "orientbot_direct", False)


install()
