"""The sketch recognizer network: Conv1D stack -> LSTM layers -> softmax, padding-invariant.

Inputs are (batch, time, 3) rows from ``inkcast.runtime.sketch_preprocess``, left-padded with
zero rows. The network gives exactly the same output whatever the amount of left padding:
* the convolutions are causal, and their outputs are multiplied by a step mask (1 on real rows,
  0 on padding), so padded steps carry exact zeros;
* each LSTM's cell-candidate bias is pinned to 0, so from a zero state a zero input leaves the
  state at exactly zero: the LSTM starts on the first real row whatever came before.
That lets the exported batch-1 graphs run at each drawing's own length (no padding at all) and
lets batches of different lengths be padded without changing any answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tf_env import keras, tf


@dataclass
class SketchModelOptions:
    """Sizes of the network."""

    conv_filters: tuple[int, ...] = (48, 64, 96)
    conv_kernels: tuple[int, ...] = (5, 5, 3)
    lstm_units: tuple[int, ...] = (128, 128)
    dropout: float = 0.3
    time_stride: int = 2  # the LSTMs read every n-th conv step, counted from the last one


class StepMask(keras.layers.Layer):
    """1.0 for real rows (any non-zero feature), 0.0 for padding rows: shape (batch, time, 1)."""

    def call(self, x):
        return tf.cast(tf.reduce_max(tf.abs(x), axis=-1, keepdims=True) > 0, x.dtype)


class ZeroCellBias(keras.constraints.Constraint):
    """Keep the cell-candidate quarter of an LSTM bias [i, f, c, o] at zero (see module doc)."""

    def __init__(self, units: int):
        self.units = units

    def __call__(self, b):
        m = np.ones(4 * self.units, np.float32)
        m[2 * self.units : 3 * self.units] = 0.0
        return b * m

    def get_config(self):
        return {"units": self.units}


class TakeFromEnd(keras.layers.Layer):
    """Every ``stride``-th time step counted back from the last one, in time order.

    Counting from the end keeps the model padding-invariant (left padding only shifts the start)
    while the LSTMs, which dominate the cost, read ``stride`` times fewer steps."""

    def __init__(self, stride: int, **kw):
        super().__init__(**kw)
        self.stride = stride

    def call(self, x):
        return tf.reverse(tf.reverse(x, axis=[1])[:, :: self.stride], axis=[1])

    def get_config(self):
        return {**super().get_config(), "stride": self.stride}


def build_sketch_model(n_classes: int, options: SketchModelOptions | None = None,
                       batch_size: int | None = None, time_steps: int | None = None) -> "keras.Model":
    """The Keras model; ``batch_size``/``time_steps`` fix the input shape (None = free)."""
    o = options or SketchModelOptions()
    inp = keras.Input(shape=(time_steps, 3), batch_size=batch_size, name="strokes")
    mask = StepMask(name="step_mask")(inp)
    x = inp
    for i, (f, k) in enumerate(zip(o.conv_filters, o.conv_kernels)):
        x = keras.layers.Conv1D(f, k, padding="causal", activation="relu", name=f"conv{i}")(x)
        x = keras.layers.Multiply(name=f"conv{i}_masked")([x, mask])
        if o.dropout:
            x = keras.layers.Dropout(o.dropout / 2, name=f"conv{i}_dropout")(x)
    if o.time_stride > 1:
        x = TakeFromEnd(o.time_stride, name="take_from_end")(x)
    for i, u in enumerate(o.lstm_units):
        last = i == len(o.lstm_units) - 1
        x = keras.layers.LSTM(u, return_sequences=not last, bias_constraint=ZeroCellBias(u),
                              bias_initializer="zeros", unit_forget_bias=True, name=f"lstm{i}")(x)
        if o.dropout:
            x = keras.layers.Dropout(o.dropout, name=f"lstm{i}_dropout")(x)
    out = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inp, out, name="sketch_recognizer")
