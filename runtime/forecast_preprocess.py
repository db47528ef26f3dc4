"""The forecast preprocessing contract: the last N daily values -> the model's input, and back.

Training imports this module, and so does the on-device runtime, so the model always sees on the
device exactly what it was trained on (same scaling, same window, same features). NumPy and the
standard library only; this module never imports TensorFlow or anything from ``inkcast.training``.

The contract, written to every forecast bundle's manifest under ``preprocessing``:

* ``window`` (N, default 56): the model reads the N most recent daily values, oldest first;
* ``horizon`` (default 7): it forecasts the next ``horizon`` days, day 1 first;
* ``scaling``: ``{"method": "standard", "mean": m, "std": s}`` (``x' = (x - m) / s``) or
  ``{"method": "mean", "mean": m}`` (``x' = x / m``), fitted on the training period only;
* ``window_norm``: each scaled window is divided by its level ``mean(|x'|)`` (and the forecast
  multiplied back), so a series that has halved since training looks like the one trained on;
* ``base``: ``{"method": "none" | "last_week" | "weekday_median", "weeks": k}``: a seasonal
  forecast read from the (normalized) window; the model predicts a *correction* to it;
* ``features``: the model's input channels, ``value`` (the normalized window) and optionally
  ``weekday_residual`` (each value minus the median of its weekday over the last k weeks);
* ``input_standardization`` (per channel ``mean``/``std``): fitted on the training windows, so
  every channel of the model's input tensor is ~N(0, 1) (int8 quantizes the tensor with one scale);
* ``frequency`` is ``"D"``: one value per calendar day, no gaps (the CSV reader enforces it).

Why all of this runs here, in NumPy, rather than in the model graph: the divisions, medians and
skip additions are exact in float64 here, and the model file is left with plain Conv1D/LSTM/Dense
on unit-scale tensors, which is what full-integer int8 quantizes well. (Inside the graph, int8
activations doubled the test MAE; measured on the CTA run, see ``docs/QUANTIZATION.md``.)
A manifest without these fields (the defaults: no normalization, no base, one ``value``
channel, identity standardization) describes a model that reads the scaled window directly.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import BadInputError, BundleError

INPUT_NAME = "series"  # the model's input tensor: (batch, window, channels) standardized features
OUTPUT_NAME = "forecast"  # the model's output tensor: (batch, horizon), see ``finish``
WINDOW = 56  # days of history the model reads (8 weeks: several weekly cycles)
HORIZON = 7  # days forecast
SCALING_METHODS = ("standard", "mean")
BASE_METHODS = ("none", "last_week", "weekday_median")
FEATURES = ("value", "weekday_residual")  # the possible input channels, in this order
PERIOD = 7  # the weekly cycle the base and the residual channel use


@dataclass(frozen=True)
class Scaling:
    """A fitted affine scaling ``x' = (x - offset) / scale`` and its manifest form."""

    method: str
    mean: float
    std: float | None = None

    def __post_init__(self) -> None:
        if self.method not in SCALING_METHODS:
            raise BadInputError(f"unknown scaling method {self.method!r}; choose one of {', '.join(SCALING_METHODS)}")
        if not (isinstance(self.mean, Real) and math.isfinite(self.mean)):
            raise BadInputError(f"scaling mean must be a finite number, got {self.mean!r}")
        if self.method == "standard":
            if not (isinstance(self.std, Real) and math.isfinite(self.std) and self.std > 0):
                raise BadInputError(f"standard scaling needs a positive finite std, got {self.std!r}")
        elif self.mean == 0:
            raise BadInputError("mean scaling divides by the training mean, which is 0")

    @property
    def offset(self) -> float:
        return float(self.mean) if self.method == "standard" else 0.0

    @property
    def scale(self) -> float:
        return float(self.std) if self.method == "standard" else float(self.mean)

    @classmethod
    def fit(cls, values: Sequence[float] | np.ndarray, method: str = "standard") -> "Scaling":
        """Fit on the training values only (never on validation or test values)."""
        v = np.asarray(values, dtype=np.float64)
        if v.size < 2 or not np.isfinite(v).all():
            raise BadInputError(f"cannot fit scaling on {v.size} values (need >= 2 finite values)")
        if method == "standard":
            std = float(v.std())
            if std == 0:
                raise BadInputError("the training values are constant: standard scaling is undefined")
            return cls("standard", float(v.mean()), std)
        return cls(method, float(v.mean()))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"method": self.method, "mean": float(self.mean)}
        if self.method == "standard":
            d["std"] = float(self.std)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Scaling":
        if not isinstance(d, Mapping) or "method" not in d or "mean" not in d:
            raise BundleError(f"scaling must be an object with 'method' and 'mean', got {d!r:.120}")
        try:
            return cls(str(d["method"]), d["mean"], d.get("std"))
        except BadInputError as e:
            raise BundleError(f"bad scaling in the manifest: {e}") from None

    def apply(self, x: np.ndarray) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.offset) / self.scale).astype(np.float32)

    def invert(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64) * self.scale + self.offset


@dataclass(frozen=True)
class ForecastPreprocessing:
    """The parameters of the contract: what the manifest's ``preprocessing`` object holds."""

    scaling: Scaling
    window: int = WINDOW
    horizon: int = HORIZON
    frequency: str = "D"
    features: tuple[str, ...] = ("value",)
    series: dict[str, Any] = field(default_factory=dict)  # where the values came from (informative)
    window_norm: bool = False
    base: str = "none"
    base_weeks: int = 1  # weeks the weekday median (base and residual channel) looks back
    input_mean: tuple[float, ...] = ()  # per channel; empty: 0 (stored as zeros)
    input_std: tuple[float, ...] = ()  # per channel; empty: 1 (stored as ones)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        if self.base not in BASE_METHODS:
            raise BundleError(f"unknown base {self.base!r}; choose one of {', '.join(BASE_METHODS)}")
        if not self.features or self.features[0] != "value" or any(f not in FEATURES for f in self.features) \
                or len(set(self.features)) != len(self.features):
            raise BundleError(f"features must be 'value' optionally followed by 'weekday_residual', "
                              f"got {list(self.features)}")
        needs_weeks = self.base == "weekday_median" or "weekday_residual" in self.features
        if needs_weeks and not 1 <= self.base_weeks * PERIOD <= self.window:
            raise BundleError(f"base weeks {self.base_weeks} need a window of at least {PERIOD * self.base_weeks} "
                              f"days, the window is {self.window}")
        if self.base == "last_week" and self.window < PERIOD:
            raise BundleError(f"the last_week base needs a window of at least {PERIOD} days")
        for name, default in (("input_mean", 0.0), ("input_std", 1.0)):
            v = tuple(getattr(self, name)) or (default,) * self.channels
            object.__setattr__(self, name, v)  # frozen: normalized once, here
            if (len(v) != self.channels or not all(isinstance(a, Real) and math.isfinite(a) for a in v)):
                raise BundleError(f"{name} must hold one finite number per feature ({self.channels}), got {list(v)}")
        if min(self.input_std) <= 0:
            raise BundleError(f"input_std must be positive, got {list(self.input_std)}")

    @property
    def channels(self) -> int:
        """The model input's last dimension."""
        return len(self.features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": int(self.window),
            "horizon": int(self.horizon),
            "frequency": self.frequency,
            "features": list(self.features),
            "scaling": self.scaling.to_dict(),
            "window_norm": bool(self.window_norm),
            "base": {"method": self.base, "weeks": int(self.base_weeks)},
            "input_standardization": {"mean": [float(v) for v in self.input_mean],
                                      "std": [float(v) for v in self.input_std]},
            "series": dict(self.series),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ForecastPreprocessing":
        """Read a manifest's ``preprocessing`` object; missing or bad fields raise BundleError."""
        if not isinstance(d, Mapping):
            raise BundleError("the manifest's 'preprocessing' must be an object")
        for key in ("window", "horizon", "scaling"):
            if key not in d:
                raise BundleError(f"the manifest's preprocessing has no {key!r} field")
        for key in ("window", "horizon"):
            if not isinstance(d[key], int) or isinstance(d[key], bool) or d[key] < 1:
                raise BundleError(f"preprocessing {key!r} must be a positive integer, got {d[key]!r}")
        if d.get("frequency", "D") != "D":
            raise BundleError(f"only daily series (frequency 'D') are supported, got {d.get('frequency')!r}")
        base = d.get("base", {"method": "none", "weeks": 1})
        std = d.get("input_standardization", {"mean": [], "std": []})
        if not isinstance(base, Mapping) or not isinstance(std, Mapping):
            raise BundleError("preprocessing 'base' and 'input_standardization' must be objects")
        try:
            return cls(
                scaling=Scaling.from_dict(d["scaling"]),
                window=d["window"],
                horizon=d["horizon"],
                frequency="D",
                features=tuple(d.get("features", ("value",))),
                series=dict(d.get("series", {})),
                window_norm=bool(d.get("window_norm", False)),
                base=str(base.get("method", "none")),
                base_weeks=int(base.get("weeks", 1)),
                input_mean=tuple(std.get("mean", ())),
                input_std=tuple(std.get("std", ())),
            )
        except (TypeError, ValueError) as e:
            raise BundleError(f"bad preprocessing field: {e}") from None


def validate_values(values: Any, need: int) -> np.ndarray:
    """Check a 1-D sequence of finite numbers with at least ``need`` values; return it as float64.

    Errors name the offending position (0-based, in the sequence as given), so a caller can find
    the bad value in its data.
    """
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (Sequence, np.ndarray)):
        raise BadInputError(f"expected a 1-D sequence of numbers, got {type(values).__name__}")
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise BadInputError(f"expected a 1-D sequence of numbers, got an array of shape {values.shape}")
        if values.dtype.kind not in "iuf":
            raise BadInputError(f"expected numbers, got an array of dtype {values.dtype}")
        arr = values.astype(np.float64)
    else:
        for i, v in enumerate(values):
            if not isinstance(v, Real) or isinstance(v, bool):
                raise BadInputError(f"value {i} is not a number: {v!r:.40}")
        arr = np.array(values, dtype=np.float64)
    if len(arr) < need:
        raise BadInputError(f"too few values: the model needs the last {need} days, got {len(arr)}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad))
        raise BadInputError(f"value {i} is {arr[i]} (NaN or infinite): every value must be a finite number")
    return arr


@dataclass(frozen=True)
class ModelInput:
    """What the model file reads, plus what ``finish`` needs to turn its output into a forecast."""

    x: np.ndarray  # (n, window, channels) float32: the model's input tensor
    base: np.ndarray  # (n, horizon) float64: the seasonal base forecast, in normalized units
    level: np.ndarray  # (n, 1) float64: each window's level (1 without window_norm)

    @classmethod
    def concat(cls, parts: Sequence["ModelInput"]) -> "ModelInput":
        """One batch from several (e.g. one ``make_input`` per series)."""
        return cls(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("x", "base", "level")))


def _weekday_median(xn: np.ndarray, weeks: int) -> np.ndarray:
    """(n, window): each value's weekday median over the window's last ``weeks`` weeks."""
    n, w = xn.shape
    start = w - weeks * PERIOD
    med = np.median(xn[:, start:].reshape(n, weeks, PERIOD), axis=1)  # (n, PERIOD), oldest week first
    return med[:, (np.arange(w) - start) % PERIOD]


def _base(xn: np.ndarray, prep: "ForecastPreprocessing") -> np.ndarray:
    """(n, horizon): the seasonal base forecast read from normalized windows (0 for ``none``)."""
    n, w = xn.shape
    if prep.base == "none":
        return np.zeros((n, prep.horizon))
    h = np.arange(1, prep.horizon + 1)
    last = w - 1 - (PERIOD * -(-h // PERIOD) - h)  # the last input day on each forecast day's weekday
    weeks = 1 if prep.base == "last_week" else prep.base_weeks
    rows = xn[:, last[:, None] - PERIOD * np.arange(weeks)[None, :]]  # (n, horizon, weeks)
    return rows[..., 0] if prep.base == "last_week" else np.median(rows, axis=2)


def features(scaled: np.ndarray, prep: "ForecastPreprocessing", standardize: bool = True) -> ModelInput:
    """Model inputs for scaled windows ``(n, window)`` (or ``(n, window, 1)``), in float64 until the end.

    ``standardize=False`` gives the unstandardized channels (training fits the standardization on them).
    """
    x = np.asarray(scaled, dtype=np.float64)
    if x.ndim == 3:
        x = x[..., 0]
    if x.ndim != 2 or x.shape[1] != prep.window:
        raise BadInputError(f"expected windows of shape (n, {prep.window}), got {x.shape}")
    level = np.abs(x).mean(axis=1, keepdims=True) + 1e-6 if prep.window_norm else np.ones((len(x), 1))
    xn = x / level
    chans = [xn]
    if "weekday_residual" in prep.features:
        chans.append(xn - _weekday_median(xn, prep.base_weeks))
    feats = np.stack(chans, axis=-1)
    if standardize:
        feats = (feats - np.asarray(prep.input_mean)) / np.asarray(prep.input_std)
    return ModelInput(feats.astype(np.float32), _base(xn, prep), level)


def finish(output: np.ndarray, inp: ModelInput) -> np.ndarray:
    """The model's outputs ``(n, horizon)`` -> the forecast in scaled units (float64).

    forecast = (output + base) * level; ``scaling.invert`` then gives the series' units.
    """
    return (np.asarray(output, dtype=np.float64) + inp.base) * inp.level


def targets(scaled_y: np.ndarray, inp: ModelInput) -> np.ndarray:
    """The model outputs that ``finish`` turns into ``scaled_y``: training's regression targets."""
    return (np.asarray(scaled_y, dtype=np.float64) / inp.level - inp.base).astype(np.float32)


def make_input(values: Any, prep: ForecastPreprocessing) -> ModelInput:
    """The model input (batch of 1) from a series' most recent values (oldest first).

    Only the last ``window`` values are used, and only those are validated: older history may hold
    anything. Values are scaled with the training-period scaling, then turned into ``features``.
    """
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "iuf":
        tail = values[-prep.window:]
    elif isinstance(values, Sequence) and not isinstance(values, (str, bytes)):
        tail = list(values[-prep.window:])
    else:
        tail = values
    arr = validate_values(tail, prep.window)
    return features(prep.scaling.apply(arr).reshape(1, prep.window), prep)


def windows(values: np.ndarray, window: int, horizon: int, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n, window, 1) and targets (n, horizon) for the given forecast origins.

    An origin ``t`` is the index of the last observed value: the input is ``values[t-window+1 .. t]``
    and the target ``values[t+1 .. t+horizon]``. Used by training and evaluation on scaled values.
    """
    values = np.asarray(values)
    origins = np.asarray(origins, dtype=np.int64)
    if origins.size and (origins.min() < window - 1 or origins.max() + horizon >= len(values)):
        raise BadInputError(
            f"forecast origins {origins.min()}..{origins.max()} need values {origins.min() - window + 1}.."
            f"{origins.max() + horizon}, but the series has indices 0..{len(values) - 1}"
        )
    x_idx = origins[:, None] + np.arange(-window + 1, 1)[None, :]
    y_idx = origins[:, None] + np.arange(1, horizon + 1)[None, :]
    return values[x_idx][..., None].astype(np.float32), values[y_idx].astype(np.float32)


def next_dates(last_date: _dt.date | str, horizon: int = HORIZON) -> list[_dt.date]:
    """The ``horizon`` calendar days after ``last_date`` (a date or an ISO ``YYYY-MM-DD`` string)."""
    if isinstance(last_date, str):
        try:
            last_date = _dt.date.fromisoformat(last_date)
        except ValueError:
            raise BadInputError(f"last date {last_date!r} is not an ISO date (YYYY-MM-DD)") from None
    if isinstance(last_date, _dt.datetime):
        last_date = last_date.date()
    if not isinstance(last_date, _dt.date):
        raise BadInputError(f"last date must be a date, got {type(last_date).__name__}")
    return [last_date + _dt.timedelta(days=h) for h in range(1, horizon + 1)]
