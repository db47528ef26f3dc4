"""Quantization-aware training (tensorflow-model-optimization) -> full-integer TFLite.

tfmot quantizes Dense natively; Conv1D it refuses ("is not supported") unless given a
QuantizeConfig, so we pass its own 8-bit config (per-tensor kernel, activation after ReLU). For
LSTM it has no config (the error it raises is recorded in the manifest via ``lstm_qat_error``),
so the LSTMs are left to the converter's post-training int8 calibration. The quantize-annotated
model is fine-tuned briefly on the run's stored training sample (calibration.npz: training split
only), then converted like tflite-int8. A classifier's variant: the sketch spec lists it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from inkcast.runtime.sketch_preprocess import pad_left
from inkcast.training.tf_env import keras

from .quantize import tflite_full_int8

QAT_EPOCHS = 2
QAT_LEARNING_RATE = 2e-4


def _custom_objects():
    from inkcast.training.sketch_model import StepMask, TakeFromEnd, ZeroCellBias

    return {"StepMask": StepMask, "TakeFromEnd": TakeFromEnd, "ZeroCellBias": ZeroCellBias}


def lstm_qat_error(model) -> str | None:
    """What tfmot says when asked to quantize-annotate an LSTM layer (None if it accepts it)."""
    import tensorflow_model_optimization as tfmot

    q = tfmot.quantization.keras

    def annotate(layer):
        if isinstance(layer, keras.layers.LSTM):
            return q.quantize_annotate_layer(layer)
        return layer

    try:
        annotated = keras.models.clone_model(model, clone_function=annotate)
        with q.quantize_scope(_custom_objects()):
            q.quantize_apply(annotated)
    except Exception as e:  # report tfmot's own words
        return f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
    return None


def quantize_aware_model(model):
    """The model with fake-quantized Conv1D and Dense layers (weights copied)."""
    import tensorflow_model_optimization as tfmot

    q = tfmot.quantization.keras

    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
        default_8bit_quantize_registry as registry)

    conv_config = registry.Default8BitQuantizeConfig(["kernel"], ["activation"], False)  # per-tensor: the per-channel one assumes 4-D Conv2D kernels

    def annotate(layer):
        if isinstance(layer, keras.layers.Conv1D):
            return q.quantize_annotate_layer(layer, quantize_config=conv_config)
        if isinstance(layer, keras.layers.Dense):
            return q.quantize_annotate_layer(layer)
        return layer

    annotated = keras.models.clone_model(model, clone_function=annotate)
    annotated.set_weights(model.get_weights())
    scope = _custom_objects() | {"Default8BitQuantizeConfig": registry.Default8BitQuantizeConfig}
    with q.quantize_scope(scope):
        return q.quantize_apply(annotated)


def qat_int8_tflite(model, input_shape, input_name: str, fine_tune: tuple[Sequence[np.ndarray], np.ndarray],
                    calibration: Sequence[np.ndarray]) -> bytes:
    """Fine-tune a classifier with fake quantization on ``fine_tune`` (ragged rows, labels; training
    data only), then convert to full-integer int8 TFLite like ``tflite-int8``."""
    rows, y = fine_tune
    qmodel = quantize_aware_model(model)
    qmodel.compile(optimizer=keras.optimizers.Adam(QAT_LEARNING_RATE),
                   loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    order = np.argsort([len(r) for r in rows], kind="stable")
    batches = [order[i : i + 32] for i in range(0, len(order), 32)]
    rng = np.random.default_rng(0)
    for _ in range(QAT_EPOCHS):
        for b in rng.permutation(len(batches)):
            idx = batches[b]
            qmodel.train_on_batch(pad_left([rows[i] for i in idx]), y[idx])
    return tflite_full_int8(qmodel, input_shape, input_name, calibration)
