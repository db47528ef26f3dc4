"""Every setting of a forecaster training run, in one JSON-serializable dataclass.

The run directory keeps ``options.json`` written from this class, so the exporter can rebuild the
exact model (``ForecastOptions.load`` + ``forecast_model.build_model``) and load its weights, and so
a run can be repeated from its record alone. Bad values raise ``BadInputError`` naming the field.

Defaults follow the measurements recorded in ``training/forecast_model.py``: the average of five
Conv1D+LSTM(64) networks, each reading 56 days divided by their level, and their distance from
each weekday's median, predicting a correction to the weekday-median forecast; MAE loss, early
stopping on validation MAE; ``head="auto"`` trains both heads and keeps the one with the lower
validation MAE (metrics.json records both). Columns and split dates default to None: found in
the file, or derived as proportions of the series, or filled by a recipe
(``forecast_recipes.py``).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from inkcast.runtime.errors import BadInputError
from inkcast.runtime.forecast_preprocess import HORIZON, SCALING_METHODS, WINDOW

from inkcast.data.series_csv import FILL_POLICIES

HEADS = ("vector", "seq2seq", "auto")
SKIPS = ("none", "last_week", "weekday_median")  # "auto" trains both and keeps the lower validation MAE
LOSSES = ("huber", "mae", "mse")


@dataclass
class ForecastOptions:
    """Data, split, model and training settings of one forecaster run (dates are ISO strings)."""

    # data
    date_column: str | None = None  # None: the file's one date column (or a recipe's)
    value_column: str | None = None  # None: the file's one numeric column (or a recipe's)
    date_format: str | None = None  # None: detected
    fill: str | None = None  # None: a gap in the dates is an error
    # a named set of defaults for a known file ("auto": matched by the CSV's header, see
    # forecast_recipes.py; "none": proportional splits and detected columns whatever the file)
    recipe: str = "auto"
    # splits by date, inclusive; each period's targets lie wholly inside it. A date left None is
    # derived (forecast_splits.resolve_periods): the last test_fraction of the days are the test
    # period, the val_fraction before them validation, everything earlier training.
    train_start: str | None = None
    train_end: str | None = None
    val_start: str | None = None
    val_end: str | None = None
    test_start: str | None = None
    test_end: str | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    # preprocessing
    window: int = WINDOW
    horizon: int = HORIZON
    scaling: str = "mean"
    # model
    head: str = "auto"
    seasonal_skip: str = "weekday_median"  # output = seasonal base read from the input + learned correction
    skip_weeks: int = 8  # weeks the weekday median looks back (<= window // 7)
    residual_input: bool = True  # also feed each value's distance from its weekday median
    window_norm: bool = True  # divide each window by its level, multiply the forecast back (needs scaling "mean")
    conv_filters: int = 32
    conv_kernel: int = 7
    conv_strides: int = 1
    lstm_units: int = 64
    dropout: float = 0.0
    # members averaged inside the one exported graph, trained alone with seeds seed, seed+1, ...
    ensemble: int = 5
    # training
    loss: str = "mae"
    learning_rate: float = 1e-3
    batch_size: int = 32
    max_epochs: int = 300
    patience: int = 30
    seed: int = 42
    # SARIMA baseline: (p, d, q) x (P, D, Q, s)
    sarima_order: tuple[int, int, int] = (1, 0, 0)
    sarima_seasonal_order: tuple[int, int, int, int] = (0, 1, 1, 7)

    def __post_init__(self) -> None:
        self.sarima_order = tuple(self.sarima_order)
        self.sarima_seasonal_order = tuple(self.sarima_seasonal_order)
        self.validate()

    def _date(self, name: str) -> dt.date | None:
        value = getattr(self, name)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise BadInputError(f"option {name}: {value!r} is not an ISO date (YYYY-MM-DD)") from None

    def validate(self) -> None:
        def positive_int(name: str, low: int = 1) -> None:
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < low:
                raise BadInputError(f"option {name} must be an integer >= {low}, got {v!r}")

        for name in ("window", "horizon", "ensemble", "conv_filters", "conv_kernel", "conv_strides", "lstm_units",
                     "batch_size", "max_epochs", "patience"):
            positive_int(name)
        positive_int("seed", 0)
        positive_int("skip_weeks")
        choices = {"scaling": SCALING_METHODS, "head": HEADS, "loss": LOSSES, "seasonal_skip": SKIPS}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise BadInputError(f"option {name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if self.fill is not None and self.fill not in FILL_POLICIES:
            raise BadInputError(f"option fill must be one of {', '.join(FILL_POLICIES)} or None, got {self.fill!r}")
        for name in ("date_column", "value_column"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v):
                raise BadInputError(f"option {name} must be a non-empty column name or None (detected)")
        if not isinstance(self.recipe, str) or not self.recipe:
            raise BadInputError(f"option recipe must be 'auto', 'none' or a recipe name, got {self.recipe!r}")
        for name in ("val_fraction", "test_fraction"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0.0 < v < 0.5):
                raise BadInputError(f"option {name} must be a fraction of the series in (0, 0.5), got {v!r}")
        if self.val_fraction + self.test_fraction >= 0.9:
            raise BadInputError("options val_fraction + test_fraction must leave at least 10 % of the series "
                                f"for training, got {self.val_fraction} + {self.test_fraction}")
        if self.date_format is not None and not isinstance(self.date_format, str):
            raise BadInputError(f"option date_format must be a strptime format string, got {self.date_format!r}")
        if not (0.0 <= float(self.dropout) < 1.0):
            raise BadInputError(f"option dropout must be in [0, 1), got {self.dropout!r}")
        if not (float(self.learning_rate) > 0):
            raise BadInputError(f"option learning_rate must be positive, got {self.learning_rate!r}")
        if self.conv_kernel * self.conv_strides > self.window:
            raise BadInputError(f"conv_kernel x conv_strides ({self.conv_kernel}x{self.conv_strides}) exceeds window {self.window}")
        if self.seasonal_skip == "last_week" and self.window < 7:
            raise BadInputError("the last_week seasonal skip needs a window of at least 7 days")
        if (self.seasonal_skip == "weekday_median" or self.residual_input) and self.skip_weeks * 7 > self.window:
            raise BadInputError(f"skip_weeks {self.skip_weeks} needs a window of at least {7 * self.skip_weeks} days, "
                                f"got {self.window}")
        for name in ("residual_input", "window_norm"):
            if not isinstance(getattr(self, name), bool):
                raise BadInputError(f"option {name} must be true or false, got {getattr(self, name)!r}")
        if self.window_norm and self.scaling != "mean":
            raise BadInputError("option window_norm needs scaling 'mean' (a ratio to the window's level "
                                "is meaningless around the zero of standard scaling)")
        if len(self.sarima_order) != 3 or len(self.sarima_seasonal_order) != 4:
            raise BadInputError("sarima_order is (p, d, q) and sarima_seasonal_order is (P, D, Q, s)")
        periods = [(p, self._date(f"{p}_start"), self._date(f"{p}_end")) for p in ("train", "val", "test")
                   if self.period_given(p)]
        for name, start, end in periods:
            if end < start:
                raise BadInputError(f"option {name}_end ({end}) is before {name}_start ({start})")
        for (a, _, a_end), (b, b_start, _) in zip(periods, periods[1:]):
            if b_start <= a_end:
                raise BadInputError(f"the {b} period must start after the {a} period ends ({b}_start {b_start} <= {a}_end {a_end})")

    @property
    def channels(self) -> int:
        """The network's input channels: the value, and its weekday residual with ``residual_input``."""
        return 2 if self.residual_input else 1

    def period(self, name: str) -> tuple[dt.date | None, dt.date | None]:
        """(start, end) dates of "train", "val" or "test"; None where not given."""
        return self._date(f"{name}_start"), self._date(f"{name}_end")

    def period_given(self, name: str) -> bool:
        """Whether both dates of the period are set."""
        return None not in self.period(name)

    def replace(self, **changes: Any) -> "ForecastOptions":
        return ForecastOptions.from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sarima_order"] = list(self.sarima_order)
        d["sarima_seasonal_order"] = list(self.sarima_seasonal_order)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ForecastOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise BadInputError(f"unknown forecast option(s): {', '.join(unknown)}")
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: str | Path) -> "ForecastOptions":
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BadInputError(f"{path}: cannot read forecast options ({e})") from None
        if not isinstance(d, dict):
            raise BadInputError(f"{path}: forecast options must be a JSON object")
        return cls.from_dict(d)
