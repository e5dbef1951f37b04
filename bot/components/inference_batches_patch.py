"""DIET and the ResponseSelector cut a message's inputs into batches without a Keras data generator (issue 13).

Rasa 3.6's ``RasaModel.run_inference`` builds a ``RasaBatchDataGenerator`` (a Keras ``Sequence``: attribute
tracking, an epoch set up, the data "shuffled and balanced" with neither asked) and iterates it, for a single
message twice a message. With ``shuffle=False`` and the ``sequence`` strategy the generator's batches are
``prepare_batch(model_data.data, start, start + batch_size)`` for ``start`` in steps of the batch size (its
first size when a list is given, for one epoch); here those batches are made by that same function directly,
then predicted and merged by Rasa's own methods, in the same order. 0–0.2 ms of CPU a message (near the noise of
the measurement, as for ``count_vectors_patch``); the same outputs
(``tests/bot/test_nlu_speed_patches.py``).

How it is applied: as ``validation_patch``, imported with ``bot.components`` when the Rasa server loads the
model, without retraining. ``ORIENTBOT_DIRECT_INFERENCE_BATCHES=0`` leaves Rasa's method in place (to measure
the difference).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Union

from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

from bot.components.switches import switched_off

ENV_SWITCH = "ORIENTBOT_DIRECT_INFERENCE_BATCHES"
ORIGINAL = RasaModel.__dict__["run_inference"]


def run_inference(self: RasaModel, model_data: RasaModelData, batch_size: Union[int, List[int]] = 1,
                  output_keys_expected: Optional[List[Text]] = None) -> Dict[Text, Any]:
    """``RasaModel.run_inference``: the generator's batches, made by its ``prepare_batch``, predicted in order."""
    size = int(batch_size[0] if isinstance(batch_size, list) else batch_size)
    if size <= 0:
        return ORIGINAL(self, model_data, batch_size, output_keys_expected)  # Rasa's own error
    data = model_data.data
    outputs: Dict[Text, Any] = {}
    for start in range(0, model_data.number_of_examples(data), size):
        batch_in = RasaBatchDataGenerator.prepare_batch(data, start, start + size)
        batch_out = self._rasa_predict(batch_in)
        if output_keys_expected:
            batch_out = {key: output for key, output in batch_out.items() if key in output_keys_expected}
        outputs = self._merge_batch_outputs(outputs, batch_out)
    return outputs


run_inference.orientbot_direct = True  # type: ignore[attr-defined]


def install() -> bool:
    """Puts the patched method in place (idempotent); False when switched off by the environment."""
    if switched_off(ENV_SWITCH):
        return False
    RasaModel.run_inference = run_inference  # type: ignore[assignment]
    return True


def uninstall() -> None:
    """Puts Rasa's own method back (to measure, and for the tests' comparison)."""
    RasaModel.run_inference = ORIGINAL  # type: ignore[assignment]


def installed() -> bool:
    return getattr(RasaModel.__dict__["run_inference"], "orientbot_direct", False)


install()
