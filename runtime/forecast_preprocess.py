"""The forecast preprocessing contract: the last N daily values -> a (1, N, 1) float32 model input.

Training imports this module, and so does the on-device runtime, so the model always sees on the
device exactly what it was trained on (same scaling, same window). NumPy and the standard library
only; this module never imports TensorFlow or anything from ``inkcast.training``.

The contract, written to every forecast bundle's manifest under ``preprocessing``:

* ``window`` (N, default 56): the model reads the N most recent daily values, oldest first;
* ``horizon`` (default 7): it outputs the next ``horizon`` days, day 1 first;
* ``scaling``: ``{"method": "standard", "mean": m, "std": s}`` (``x' = (x - m) / s``) or
  ``{"method": "mean", "mean": m}`` (``x' = x / m``), fitted on the training period only.
  The model's outputs are in the same scaled units; ``unscale`` brings them back;
* ``frequency`` is ``"D"``: one value per calendar day, no gaps (the CSV reader enforces it).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import BadInputError, BundleError

INPUT_NAME = "series"  # the model's input tensor: (batch, window, 1) scaled values
OUTPUT_NAME = "forecast"  # the model's output tensor: (batch, horizon) scaled values
WINDOW = 56  # days of history the model reads (8 weeks: several weekly cycles)
HORIZON = 7  # days forecast
SCALING_METHODS = ("standard", "mean")


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "window": int(self.window),
            "horizon": int(self.horizon),
            "frequency": self.frequency,
            "features": list(self.features),
            "scaling": self.scaling.to_dict(),
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
        return cls(
            scaling=Scaling.from_dict(d["scaling"]),
            window=d["window"],
            horizon=d["horizon"],
            frequency="D",
            features=tuple(d.get("features", ("value",))),
            series=dict(d.get("series", {})),
        )


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


def make_input(values: Any, prep: ForecastPreprocessing) -> np.ndarray:
    """The (1, window, 1) float32 model input from a series' most recent values (oldest first).

    Only the last ``window`` values are used, and only those are validated: older history may hold
    anything. Values are scaled with the training-period scaling.
    """
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "iuf":
        tail = values[-prep.window:]
    elif isinstance(values, Sequence) and not isinstance(values, (str, bytes)):
        tail = list(values[-prep.window:])
    else:
        tail = values
    arr = validate_values(tail, prep.window)
    return prep.scaling.apply(arr).reshape(1, prep.window, 1)


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
