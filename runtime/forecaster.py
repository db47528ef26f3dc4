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

from .backends import BACKENDS, open_model
from .bundle import load_bundle
from .errors import BadInputError, BundleError
from .forecast_preprocess import ForecastPreprocessing, ModelInput, finish, make_input, next_dates


class Forecaster:
    """Forecast the next ``horizon`` days of a daily series with one variant of a bundle.

    ``backend`` picks the engine ("tflite" or "onnx") and with it that engine's float32 variant;
    ``format`` picks any variant by its manifest name (e.g. "onnx-float32") and overrides
    ``backend``. The chosen file's checksum is verified on load.
    """

    def __init__(self, bundle_dir: str | Path, backend: str = "tflite", format: str | None = None,
                 num_threads: int | None = None, verify: bool = True):
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.bundle = load_bundle(bundle_dir, task="forecast")
        m = self.bundle.manifest
        if "preprocessing" not in m:
            raise BundleError(f"{self.bundle.root}: the manifest has no 'preprocessing' field")
        try:
            self.preprocessing = ForecastPreprocessing.from_dict(m["preprocessing"])
        except BundleError as e:
            raise BundleError(f"{self.bundle.root}: {e}") from None
        self.format = format or self.bundle.default_variant(backend)
        variant = self.bundle.variant(self.format)
        self.backend = variant["backend"]
        path = self.bundle.path_of(self.format, verify=verify)
        self._model = open_model(path, self.backend, num_threads, variant.get("quantization"))
        probe = self._model.run(np.zeros((1, self.window, self.preprocessing.channels), np.float32))
        if probe.shape != (1, self.horizon):
            raise BundleError(f"{path}: the model outputs shape {probe.shape[1:]}, the manifest says "
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
        y = self._model.invoke_one(inp.x)
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
        return self.preprocessing.scaling.invert(finish(self._model.run(inp.x), inp))

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


def forecast_cli(a: Any) -> int:
    """``inkcast forecast BUNDLE --data FILE.csv``: print the next ``horizon`` dates and values.

    ``a`` carries ``bundle``, ``data``, ``date_column``, ``value_column``, ``date_format``
    (None: the bundle's training columns, a detected format), ``backend`` and ``format``. The CSV
    is read with the training run's fill policy; it must end with at least ``window`` days.
    """
    from .series_csv import read_series

    f = Forecaster(a.bundle, backend=getattr(a, "backend", "tflite") or "tflite", format=getattr(a, "format", None))
    info = f.series
    date_column = getattr(a, "date_column", None) or info.get("date_column") or "service_date"
    value_column = getattr(a, "value_column", None) or info.get("value_column") or "rail_boardings"
    s = read_series(a.data, date_column, value_column, getattr(a, "date_format", None), info.get("fill"))
    rows = f.forecast(s.dates, s.values)
    print(f"# {value_column}: the {f.horizon} days after {s.end} (from {len(s)} days in {a.data}; "
          f"model {f.format})")
    for day, value in rows:
        print(f"{day.isoformat()}\t{value:.1f}")
    return 0


def test_period_windows(manifest: dict, data: str | Path):
    """The forecast origins of a bundle's test period in a CSV, as the training run defined them.

    Reads the series with the run's columns, date format and fill policy (from the manifest) and
    returns ``(series, origins, y)``: every origin whose seven target days lie in the test period,
    and those targets (float64). Shared by export validation and the benchmarks."""
    from .forecast_preprocess import ForecastPreprocessing, windows
    from .series_csv import read_series

    opts = (manifest.get("training") or {}).get("options", {})
    prep = ForecastPreprocessing.from_dict(manifest["preprocessing"])
    s = read_series(data, opts.get("date_column", prep.series.get("date_column")),
                    opts.get("value_column", prep.series.get("value_column")), opts.get("date_format"),
                    opts.get("fill"))
    start, end = s.index_of(opts["test_start"]), s.index_of(opts["test_end"])
    if start < 0 or end >= len(s):
        raise BadInputError(f"{data}: the series covers {s.start}..{s.end}, not the test period "
                            f"{opts['test_start']}..{opts['test_end']}")
    origins = np.arange(max(start - 1, prep.window - 1), end - prep.horizon + 1)
    _, y = windows(s.values, prep.window, prep.horizon, origins)
    return s, origins, y.astype(np.float64)
