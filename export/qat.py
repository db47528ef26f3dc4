"""Quantization-aware training (tensorflow-model-optimization) -> full-integer TFLite.

tfmot quantizes Dense natively; Conv1D it refuses ("is not supported") unless given a
QuantizeConfig, so we pass its own 8-bit config (per-tensor kernel, activation after ReLU). For
LSTM it has no config (the error it raises is recorded in the manifest via ``lstm_qat_error``),
so the LSTMs are left to the converter's post-training int8 calibration. The quantize-annotated
model is fine-tuned on the run's stored training sample (calibration.npz: training split only)
to match the float model's own probabilities (distillation), at the run's final learning rate,
then converted like tflite-int8 (docs/QUANTIZATION.md, "QAT"). A classifier's variant: the sketch spec lists it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from inkcast.runtime.sketch_preprocess import MAX_POINTS, pad_left
from inkcast.training.tf_env import keras

from .quantize import tflite_full_int8

QAT_EPOCHS = 4  # passes over the training sample


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


def stroke_mixes(rows: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """One drawing per row made of the first strokes of it and the last strokes of another: input
    off the known categories, on which the quantized copy must also follow the float model (its
    "unknown" answers come from there). Works on model rows (offsets; a stroke ends where the
    third column is 1), so it needs no raw drawings."""
    def strokes(r: np.ndarray) -> list[np.ndarray]:
        ends = np.flatnonzero(r[:, 2] > 0.5) + 1
        return [p for p in np.split(r, ends) if len(p)]

    out = []
    partners = rng.permutation(len(rows))
    for a, b in zip(rows, (rows[i] for i in partners)):
        sa, sb = strokes(a), strokes(b)
        mix = sa[: max(1, len(sa) // 2)] + sb[len(sb) // 2 :]
        out.append(np.concatenate(mix)[:MAX_POINTS].astype(np.float32))  # the contract's longest input
    return out


def untempered(model, temperature: float):
    """A copy of a tempered classifier (last layer divided by ``temperature``) with the division undone."""
    with keras.utils.custom_object_scope(_custom_objects()):
        plain = keras.models.clone_model(model)
    plain.set_weights(model.get_weights())
    dense = plain.get_layer("probabilities")
    dense.set_weights([w * temperature for w in dense.get_weights()])
    return plain


# The last layer's values a temperature divides: its weights, the stored range of its kernel and
# the learned range of its logits (tfmot's fake quantization before the softmax). All scale with
# the logits, so dividing them all gives exactly the tempered function on the same integer grid.
TEMPERED_VALUES = ("kernel", "bias", "kernel_min", "kernel_max", "pre_activation_min", "pre_activation_max")


def temper_quantized(qmodel, temperature: float) -> None:
    """Divide the quantize-aware model's logits by ``temperature`` in place."""
    layer = next(lay for lay in qmodel.layers if lay.name == "quant_probabilities")
    found = {v.name.split("/")[-1].split(":")[0]: v for v in layer.weights}
    missing = [n for n in TEMPERED_VALUES if n not in found]
    if missing:  # a tfmot that names them otherwise: say so rather than export a half-tempered model
        raise RuntimeError(f"tempering the QAT model: tfmot's Dense wrapper has no {missing} (has {sorted(found)})")
    for name in TEMPERED_VALUES:
        found[name].assign(found[name] / temperature)


def qat_int8_tflite(model, input_shape, input_name: str, fine_tune: tuple[Sequence[np.ndarray], np.ndarray],
                    calibration: Sequence[np.ndarray], learning_rate: float, temperature: float = 1.0) -> bytes:
    """Fine-tune a classifier with fake quantization on ``fine_tune``'s drawings (training data
    only), then convert to full-integer int8 TFLite like ``tflite-int8``.

    The targets are the float model's own probabilities (distillation), not the labels: one-hot
    labels taught the quantized copy to be surer than the float model, which cost the "unknown"
    figures (CI model: AUROC -0.014, FPR95 +3.6 points) that export judges every variant on.
    ``learning_rate``: the run's last one, so fine-tuning goes on where training ended.
    ``temperature``: ``model``'s output temperature. Fine-tuning runs on the untempered model, as
    the run trained it (tempered, the small last layer took the same Adam steps as relatively
    larger ones: the CI model's FPR95 moved 2.6 points), and the result is tempered after."""
    import tensorflow as tf

    keras.utils.set_random_seed(0)  # the same export gives the same file: seeded, deterministic ops
    tf.config.experimental.enable_op_determinism()
    rows = list(fine_tune[0])
    rows += stroke_mixes(rows, np.random.default_rng(0))
    if temperature != 1.0:
        model = untempered(model, temperature)
    qmodel = quantize_aware_model(model)
    qmodel.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=keras.losses.KLDivergence())
    order = np.argsort([len(r) for r in rows], kind="stable")
    batches = [order[i : i + 32] for i in range(0, len(order), 32)]
    inputs = [pad_left([rows[i] for i in idx]) for idx in batches]
    targets = [model(x, training=False).numpy() for x in inputs]
    rng = np.random.default_rng(0)
    for _ in range(QAT_EPOCHS):
        for b in rng.permutation(len(batches)):
            qmodel.train_on_batch(inputs[b], targets[b])
    if temperature != 1.0:
        temper_quantized(qmodel, temperature)
    return tflite_full_int8(qmodel, input_shape, input_name, calibration)
