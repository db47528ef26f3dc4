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

from inkcast.runtime.forecast_preprocess import INPUT_NAME, OUTPUT_NAME

from .forecast_options import ForecastOptions
from .tf_env import keras, tf


def _weekday_rows(x, horizon: int, weeks: int, period: int = 7):
    """(n, horizon, weeks): for each horizon day, the input's values on the same weekday, 1..weeks weeks back."""
    w = x.shape[1]
    days = []
    for h in range(1, horizon + 1):
        back = period * -(-h // period) - h  # steps back from the last input row to one period before day h
        days.append(tf.stack([x[:, w - 1 - back - period * j, 0] for j in range(weeks)], axis=1))
    return tf.stack(days, axis=1)


class SeasonalBase(keras.layers.Layer):
    """A seasonal forecast read from the (scaled) input window: (n, window, 1) -> (n, horizon).

    ``last_week``: the same weekday one week earlier (the seasonal naive forecast);
    ``weekday_median``: the median of the same weekday over the window's ``weeks`` weeks, which a
    single holiday in the window does not move (measured: see the module doc).
    The median uses top_k (TFLite TOPK_V2, ONNX TopK), both plain built-in ops.
    """

    def __init__(self, horizon: int, method: str = "last_week", weeks: int = 1, period: int = 7, **kwargs):
        super().__init__(**kwargs)
        self.horizon, self.method, self.weeks, self.period = horizon, method, weeks, period

    def call(self, x):
        if self.method == "last_week":
            return _weekday_rows(x, self.horizon, 1, self.period)[..., 0]
        rows = _weekday_rows(x, self.horizon, self.weeks, self.period)
        k = self.weeks
        top = tf.math.top_k(rows, k=k // 2 + 1).values  # descending
        if k % 2:
            return top[..., k // 2]
        return 0.5 * (top[..., k // 2 - 1] + top[..., k // 2])

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon, "method": self.method, "weeks": self.weeks,
                "period": self.period}


class WeekdayResidual(keras.layers.Layer):
    """(n, window, 1) -> (n, window, 2): each value, and its distance from its weekday's median.

    The median of each weekday is taken over the window's last ``weeks`` weeks (the same medians
    the ``weekday_median`` base forecasts with), so the second channel is the series with its
    robust weekly profile removed: the deviations the network has to carry forward.
    Ops: reshape, transpose, top_k, gather, subtract, concatenate (all TFLite/ONNX built-ins).
    """

    def __init__(self, weeks: int, period: int = 7, **kwargs):
        super().__init__(**kwargs)
        self.weeks, self.period = weeks, period

    def call(self, x):
        w, k, p = x.shape[1], self.weeks, self.period
        recent = tf.reshape(x[:, w - k * p :, 0], (-1, k, p))  # (n, weeks, period), oldest week first
        top = tf.math.top_k(tf.transpose(recent, (0, 2, 1)), k=k // 2 + 1).values  # (n, period, k//2+1)
        med = top[..., k // 2] if k % 2 else 0.5 * (top[..., k // 2 - 1] + top[..., k // 2])
        classes = [(i - (w - k * p)) % p for i in range(w)]
        profile = tf.gather(med, classes, axis=1)[..., None]  # (n, window, 1)
        return tf.concat([x, x - profile], axis=-1)

    def get_config(self):
        return {**super().get_config(), "weeks": self.weeks, "period": self.period}


def build_model(options: ForecastOptions, head: str | None = None) -> keras.Model:
    """A fresh, uncompiled model for the options (``head`` overrides ``options.head``)."""
    head = head or options.head
    if head not in ("vector", "seq2seq"):
        raise ValueError(f"build_model needs head 'vector' or 'seq2seq', got {head!r}")
    w, h, u = options.window, options.horizon, options.lstm_units
    x = keras.Input(shape=(w, 1), name=INPUT_NAME)
    z = WeekdayResidual(options.skip_weeks, name="weekday_residual")(x) if options.residual_input else x
    z = keras.layers.Conv1D(options.conv_filters, options.conv_kernel, strides=options.conv_strides,
                            padding="valid", activation="relu", name="conv")(z)
    if head == "vector":
        z = keras.layers.LSTM(u, dropout=options.dropout, name="encoder")(z)
        y = keras.layers.Dense(h, name="head")(z)
    else:
        z = keras.layers.LSTM(u, dropout=options.dropout, name="encoder")(z)
        z = keras.layers.RepeatVector(h, name="repeat")(z)
        z = keras.layers.LSTM(u, return_sequences=True, name="decoder")(z)
        z = keras.layers.Dense(1, name="head")(z)
        y = keras.layers.Reshape((h,), name="days")(z)
    if options.seasonal_skip != "none":
        base = SeasonalBase(h, options.seasonal_skip, options.skip_weeks, name="seasonal_base")(x)
        y = keras.layers.Add(name="skip")([y, base])
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
