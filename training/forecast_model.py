"""The 7-day forecaster: a Conv1D front end and an LSTM over the last ``window`` days (tf-keras).

Each member network is Conv1D -> LSTM -> one of two heads (``build_member``); the exported model
averages ``ensemble`` members in one graph (``build_model``):

* ``vector``: Dense(horizon) on the LSTM's final output: all seven days at once;
* ``seq2seq``: a decoder LSTM unrolled over the ``horizon`` days, fed the encoder's final output
  (the context vector) at each step, then Dense(1) per day. The decoder does not start from the
  encoder's state: ``LSTM(return_state=True)`` stops the TFLite converter from fusing the encoder
  (it falls back to a WHILE loop), so the context travels as the decoder's input instead.

Seasonal skip (``seasonal_skip``): the head predicts a *correction* to a seasonal forecast read
from the input window, so an untrained model already equals that forecast. The default base is
the median of the same weekday over the window's 8 weeks (``weekday_median``), which one holiday
or storm in the window does not move; ``residual_input`` also feeds the network each value's
distance from its weekday median, the deviations it has to carry forward. ``window_norm``
divides each window by its level and multiplies the forecast back, so the model is
scale-equivariant: it forecasts a series that has halved since training as well as the original.
All three are part of the runtime's preprocessing contract (``inkcast.runtime.forecast_preprocess``:
``features`` before the network, ``finish`` after it), computed in NumPy, not in this graph: the
network itself is Conv1D -> LSTM -> head on standardized channels, which full-integer int8 keeps
within 1 % (the same steps inside the graph doubled the int8 model's MAE).

Measured on the CTA rail series (train 2016-2018, validation 2019-01..05, test 2019-06..12;
MAE in boardings over all forecast origins; MAE loss; LSTM 64 with residual input unless noted;
mean of seeds 42, 1 and 2 unless noted). "Recent" is 2021-06..11, after COVID-19 halved
ridership: the regime ``inkcast forecast`` meets on the file's last days (neither validation
nor test; shown for robustness).

=============================================  ========  ========  ========
model                                          val MAE   test MAE  recent
=============================================  ========  ========  ========
seasonal naive (baseline)                      63,148    61,777    22,527
SARIMA (1,0,0)x(0,1,1,7), fitted on train      49,885    47,263
weekday median of 8 weeks alone                39,826    49,286    29,349
skip median, window_norm, vector               40,686    48,621    24,995
skip median, window_norm, seq2seq (default)    40,859    48,133    25,034
skip median, vector (standard scaling)         39,554    45,991    71,038 [1]_
skip median, seq2seq (standard scaling)        38,571    44,837
skip median, no residual input, vector         40,039    49,707
skip median, no residual input, seq2seq        39,475    44,668
skip none, vector, LSTM 32, no residual        42,246    41,890
skip none, seq2seq, LSTM 32 (seeds 42, 1)      50,530    44,569
skip last_week, seq2seq, LSTM 32 (seed 42)     55,071    65,707
=============================================  ========  ========  ========

.. [1] seed 42 only: without ``window_norm`` the network's correction, learned at 2016-2018
   levels, adds ~100,000 boardings a day to 2021's halved series (3x seasonal naive's error).

Since the normalization, base and residual moved into the runtime's NumPy preprocessing and the
network reads standardized channels (what full-integer int8 needs, see ``train_forecast.preprocessing_for``),
one network at seed 42 measures: seq2seq val 40,037 / test 48,719 (best epoch 1 of 31), vector
val 40,550 / test 42,159 (best epoch 17 of 47); the rows above were measured before, with
unstandardized channels and the same steps inside the graph.

Ensemble (``ensemble=5``, the default): single networks disagree a lot (seq2seq at seeds 42..46:
test 42,126 to 48,719), so the exported model averages five, trained alone at seeds 42..46 and
joined by ``average_members`` into one graph. Averages: vector val 40,274 / test 41,491, seq2seq
val 38,804 / test 42,673. Choices: between heads, on validation MAE only (``head="auto"``): the
seq2seq average wins on validation and is kept (test 0.903 x SARIMA's 47,262, 0.691 x seasonal
naive). Skip: the weekday-median skip wins on validation by a wide margin, although on the test
period the plain network did better. The last-week skip is harmful: a holiday in the last week is
copied into the forecast. Window normalization costs ~1-2k of validation/test MAE on 2019 and is
kept for the recent regime.

Export-friendliness: only layers the TFLite converter fuses or maps 1:1 (Conv1D, the tf-keras
LSTM -> UNIDIRECTIONAL_SEQUENCE_LSTM, Dense, RepeatVector, Reshape); the exporter converts it
with a fixed batch of 1 (``export/converters.py``).
"""

from __future__ import annotations

from inkcast.runtime.forecast_preprocess import INPUT_NAME, OUTPUT_NAME

from .forecast_options import ForecastOptions
from .tf_env import keras


def build_member(options: ForecastOptions, head: str | None = None, name: str | None = None) -> keras.Model:
    """One fresh, uncompiled Conv1D -> LSTM -> head network (``head`` overrides ``options.head``).

    Input: (window, channels) standardized features (``forecast_preprocess.features``); output:
    (horizon,) corrections to the seasonal base in normalized units (``forecast_preprocess.finish``
    makes the forecast).
    """
    head = head or options.head
    if head not in ("vector", "seq2seq"):
        raise ValueError(f"build_model needs head 'vector' or 'seq2seq', got {head!r}")
    w, h, u = options.window, options.horizon, options.lstm_units
    inp = keras.Input(shape=(w, options.channels), name=INPUT_NAME)
    z = keras.layers.Conv1D(options.conv_filters, options.conv_kernel, strides=options.conv_strides,
                            padding="valid", activation="relu", name="conv")(inp)
    if head == "vector":
        z = keras.layers.LSTM(u, dropout=options.dropout, name="encoder")(z)
        y = keras.layers.Dense(h, name="head")(z)
    else:
        z = keras.layers.LSTM(u, dropout=options.dropout, name="encoder")(z)
        z = keras.layers.RepeatVector(h, name="repeat")(z)
        z = keras.layers.LSTM(u, return_sequences=True, name="decoder")(z)
        z = keras.layers.Dense(1, name="head")(z)
        y = keras.layers.Reshape((h,), name="days")(z)
    y = keras.layers.Activation("linear", name=OUTPUT_NAME)(y)
    return keras.Model(inp, y, name=name or f"forecast_{head}")


def average_members(options: ForecastOptions, members: list[keras.Model], head: str) -> keras.Model:
    """One graph that runs every member on the same input and averages their outputs.

    A single member is returned as it is. The members are nested models (``member_0`` ...), so the
    averaged model's weights file holds each member's weights under its own name."""
    if len(members) == 1:
        return members[0]
    inp = keras.Input(shape=(options.window, options.channels), name=INPUT_NAME)
    outs = [m(inp) for m in members]
    y = keras.layers.Average(name="average")(outs)
    y = keras.layers.Activation("linear", name=OUTPUT_NAME)(y)
    return keras.Model(inp, y, name=f"forecast_{head}_x{len(members)}")


def build_model(options: ForecastOptions, head: str | None = None) -> keras.Model:
    """The network a run exports: ``options.ensemble`` members averaged (one member: the member)."""
    head = head or options.head
    members = [build_member(options, head, name=f"member_{i}") for i in range(options.ensemble)]
    return average_members(options, members, head)
