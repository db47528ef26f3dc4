"""The 7-day forecaster: a Conv1D front end and an LSTM over the last ``window`` days (tf-keras).

Two heads share the same encoder (Conv1D -> LSTM):

* ``vector``: Dense(horizon) on the LSTM's final output: all seven days at once;
* ``seq2seq``: a decoder LSTM unrolled over the ``horizon`` days, fed the encoder's final output
  (the context vector) at each step, then Dense(1) per day. The decoder does not start from the
  encoder's state: ``LSTM(return_state=True)`` stops the TFLite converter from fusing the encoder
  (it falls back to a WHILE loop), so the context travels as the decoder's input instead.

With ``seasonal_skip`` (default) the head predicts a correction to the seasonal naive forecast
(the same weekday one week earlier, read from the input window), so an untrained model already
equals the baseline and training only has to learn what the week before gets wrong.

Export-friendliness: only layers the TFLite converter fuses or maps 1:1 (Conv1D, the tf-keras
LSTM -> UNIDIRECTIONAL_SEQUENCE_LSTM, Dense, slicing, add); the exported signature has a fixed
batch of 1: ``serving_function`` builds it.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

from .forecast_options import ForecastOptions  # noqa: E402

INPUT_NAME = "series"
OUTPUT_NAME = "forecast"


class SeasonalNaive(keras.layers.Layer):
    """The scaled input's value one week before each horizon day: (n, window, 1) -> (n, horizon)."""

    def __init__(self, horizon: int, period: int = 7, **kwargs):
        super().__init__(**kwargs)
        self.horizon = horizon
        self.period = period

    def call(self, x):
        # day h (1-based) repeats day h - period * ceil(h / period) relative to the last input
        cols = []
        for h in range(1, self.horizon + 1):
            back = self.period * -(-h // self.period) - h  # steps back from the last input row
            cols.append(x[:, x.shape[1] - 1 - back, 0])
        return tf.stack(cols, axis=1)

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon, "period": self.period}


def build_model(options: ForecastOptions, head: str | None = None) -> keras.Model:
    """A fresh, uncompiled model for the options (``head`` overrides ``options.head``)."""
    head = head or options.head
    if head not in ("vector", "seq2seq"):
        raise ValueError(f"build_model needs head 'vector' or 'seq2seq', got {head!r}")
    w, h, u = options.window, options.horizon, options.lstm_units
    x = keras.Input(shape=(w, 1), name=INPUT_NAME)
    z = keras.layers.Conv1D(options.conv_filters, options.conv_kernel, strides=options.conv_strides,
                            padding="valid", activation="relu", name="conv")(x)
    if head == "vector":
        z = keras.layers.LSTM(u, dropout=options.dropout, name="encoder")(z)
        y = keras.layers.Dense(h, name="head")(z)
    else:
        z = keras.layers.LSTM(u, dropout=options.dropout, name="encoder")(z)
        z = keras.layers.RepeatVector(h, name="repeat")(z)
        z = keras.layers.LSTM(u, return_sequences=True, name="decoder")(z)
        z = keras.layers.Dense(1, name="head")(z)
        y = keras.layers.Reshape((h,), name="days")(z)
    if options.seasonal_skip:
        y = keras.layers.Add(name="skip")([y, SeasonalNaive(h, name="last_week")(x)])
    y = keras.layers.Activation("linear", name=OUTPUT_NAME)(y)
    return keras.Model(x, y, name=f"forecast_{head}")


def serving_function(model: keras.Model, window: int):
    """A concrete function with a fixed (1, window, 1) float32 input, as the converters need."""
    spec = tf.TensorSpec((1, window, 1), tf.float32, name=INPUT_NAME)

    @tf.function(input_signature=[spec])
    def serve(x):
        return model(x, training=False)

    return serve.get_concrete_function()


def input_signature(window: int):
    """The tf2onnx input signature: batch fixed at 1, like the TFLite export."""
    return (tf.TensorSpec((1, window, 1), tf.float32, name=INPUT_NAME),)
