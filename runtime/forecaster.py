"""Forecaster: a bundle's 7-day model behind ``predict(last_values) -> next 7 values``.

NumPy plus the chosen backend only (no TensorFlow): the values are scaled, normalized and turned
into the model's features by ``forecast_preprocess`` exactly as in training, run through the model
file, and the model's output is turned back into a forecast in the series' own units (``finish``).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .bundle_model import BundleModel
from .errors import BadInputError, BundleError
from .forecast_preprocess import ForecastPreprocessing, ModelInput, finish, make_input, next_dates


class Forecaster(BundleModel):
    """Forecast the next ``horizon`` days of a daily series with one variant of a bundle.

    Opening the bundle (``backend``, ``format``, checksums) is :class:`BundleModel`'s.
    """

    task = "forecast"

    def __init__(self, bundle_dir: str | Path, backend: str = "tflite", variant: str | None = None,
                 num_threads: int | None = None, verify: bool = True, signed_by: str | Path | None = None,
                 *, format: str | None = None):
        super().__init__(bundle_dir, backend, variant, num_threads, verify, signed_by, format=format)
        try:
            self.preprocessing = ForecastPreprocessing.from_dict(self.manifest["preprocessing"])
        except BundleError as e:
            raise BundleError(f"{self.bundle.root}: {e}") from None
        probe = self.model.run(np.zeros((1, self.window, self.preprocessing.channels), np.float32))
        if probe.shape != (1, self.horizon):
            raise BundleError(f"{self.path}: the model outputs shape {probe.shape[1:]}, the manifest says "
                              f"({self.horizon},) for a horizon of {self.horizon} days")

    @property
    def window(self) -> int:
        """How many most recent daily values ``predict`` needs."""
        return self.preprocessing.window

    @property
    def horizon(self) -> int:
        return self.preprocessing.horizon

    @property
    def series(self) -> dict[str, Any]:
        """Where the training series came from (columns, date format, training period)."""
        return self.preprocessing.series

    def predict(self, last_values: Sequence[float] | np.ndarray) -> np.ndarray:
        """The next ``horizon`` days (float64, original units) after the given daily values.

        ``last_values`` are consecutive daily values, oldest first, ending with the last observed
        day; at least ``window`` of them (only the last ``window`` are read).
        """
        inp = make_input(last_values, self.preprocessing)
        y = self.model.invoke_one(inp.x)
        return self.preprocessing.scaling.invert(finish(y, inp))[0]

    def predict_batch(self, series: Sequence[Sequence[float] | np.ndarray]) -> np.ndarray:
        """``predict`` for many series (n, horizon); a bad one raises naming its index."""
        inputs = []
        for i, s in enumerate(series):
            try:
                inputs.append(make_input(s, self.preprocessing))
            except BadInputError as e:
                raise BadInputError(f"series {i}: {e}") from None
        if not inputs:
            return np.zeros((0, self.horizon))
        inp = ModelInput.concat(inputs)
        return self.preprocessing.scaling.invert(finish(self.model.run(inp.x), inp))

    def forecast(self, dates: Sequence[Any] | np.ndarray, values: Sequence[float] | np.ndarray
                 ) -> list[tuple[_dt.date, float]]:
        """(date, value) for the ``horizon`` days after the last of ``dates``.

        ``dates`` (dates, numpy datetime64 or ISO strings) must be consecutive days matching
        ``values``: a gap in the last ``window`` days would feed the model a wrong week.
        """
        if len(dates) != len(values):
            raise BadInputError(f"{len(dates)} dates but {len(values)} values")
        if len(dates) < self.window:
            raise BadInputError(f"too few values: the model needs the last {self.window} days, got {len(dates)}")
        try:
            days = np.asarray(dates[-self.window:], dtype="datetime64[D]")
        except (ValueError, TypeError) as e:
            raise BadInputError(f"dates must be dates or ISO strings ({e})") from None
        steps = np.diff(days).astype(np.int64)
        if np.any(steps != 1):
            i = int(np.argmax(steps != 1))
            raise BadInputError(f"the last {self.window} dates must be consecutive days, but {days[i]} is "
                                f"followed by {days[i + 1]}")
        y = self.predict(values)
        return list(zip(next_dates(days[-1].astype(_dt.date), self.horizon), y.tolist()))
