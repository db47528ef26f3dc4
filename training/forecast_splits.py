"""Train / validation / test splits of a daily series by date, and their forecast origins.

A forecast origin ``t`` is the index of the last observed day; its input is the ``window`` days
ending at ``t`` and its target the ``horizon`` days after ``t``. A period owns the origins whose
*targets* lie wholly inside it. Training origins also keep their inputs inside the training period
(nothing after or before it is seen while fitting); validation and test inputs may reach back into
earlier periods, which is only history already observed at that origin. The scaling is fitted on
the training period's values alone.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from dataclasses import dataclass

import numpy as np

from inkcast.runtime.errors import BadInputError
from inkcast.runtime.forecast_preprocess import Scaling

from inkcast.data.series_csv import Series, read_series

from .forecast_options import ForecastOptions
from .forecast_recipes import Recipe, apply_recipe

PERIODS = ("train", "val", "test")
MIN_TRAIN_ORIGINS = 28


@dataclass
class Splits:
    """Index ranges (inclusive) of each period, their forecast origins, and the fitted scaling."""

    bounds: dict[str, tuple[int, int]]
    origins: dict[str, np.ndarray]
    scaling: Scaling

    def origin_dates(self, series: Series, period: str) -> np.ndarray:
        return series.dates[self.origins[period]]


def resolve_periods(series: Series, options: ForecastOptions) -> ForecastOptions:
    """The options with every split date set: given dates are kept, the others derived.

    Over the span from ``train_start`` (default: the first day) to ``test_end`` (default: the
    last day), the test period is the last ``test_fraction`` of the days and validation the
    ``val_fraction`` before it; a period's end defaults to the day before the next one starts.
    """
    day = dt.timedelta(days=1)
    first = options.period("train")[0] or series.start
    last = options.period("test")[1] or series.end
    n = (last - first).days + 1
    test_start = options.period("test")[0] or last - (round(n * options.test_fraction) - 1) * day
    val_start = options.period("val")[0] or test_start - round(n * options.val_fraction) * day
    val_end = options.period("val")[1] or test_start - day
    train_end = options.period("train")[1] or val_start - day
    return options.replace(train_start=first.isoformat(), train_end=train_end.isoformat(),
                           val_start=val_start.isoformat(), val_end=val_end.isoformat(),
                           test_start=test_start.isoformat(), test_end=last.isoformat())


def make_splits(series: Series, options: ForecastOptions) -> Splits:
    """Locate the three periods in the series, list their origins and fit the scaling on train.

    Split dates left unset are derived first (``resolve_periods``)."""
    options = resolve_periods(series, options)
    w, h = options.window, options.horizon
    bounds: dict[str, tuple[int, int]] = {}
    for p in PERIODS:
        start, end = options.period(p)
        i0, i1 = series.index_of(start), series.index_of(end)
        if i0 < 0 or i1 >= len(series):
            raise BadInputError(
                f"{series.path}: the series covers {series.start}..{series.end}, but the {p} period "
                f"{start}..{end} does not lie inside it; choose the split dates ({p}_start/{p}_end, "
                f"on the command line --{'valid' if p == 'val' else p}-start/-end)"
            )
        bounds[p] = (i0, i1)
    origins = {
        "train": np.arange(bounds["train"][0] + w - 1, bounds["train"][1] - h + 1),
        "val": np.arange(max(bounds["val"][0] - 1, w - 1), bounds["val"][1] - h + 1),
        "test": np.arange(max(bounds["test"][0] - 1, w - 1), bounds["test"][1] - h + 1),
    }
    if len(origins["train"]) < MIN_TRAIN_ORIGINS:
        n = bounds["train"][1] - bounds["train"][0] + 1
        raise BadInputError(
            f"the train period has {n} days: too few for a {w}-day window and a {h}-day horizon "
            f"(need at least {w + h + MIN_TRAIN_ORIGINS - 1} days)"
        )
    for p in ("val", "test"):
        if len(origins[p]) == 0:
            i0, i1 = bounds[p]
            raise BadInputError(
                f"the {p} period ({i1 - i0 + 1} days, with {i0} days of history before it) has no forecast "
                f"origin: it needs at least {h} days and {w} days of history before its last {h} days"
            )
    t0, t1 = bounds["train"]
    scaling = Scaling.fit(series.values[t0 : t1 + 1], options.scaling)
    return Splits(bounds=bounds, origins=origins, scaling=scaling)


def resolve_run(options: ForecastOptions, data_path: str | Path) -> tuple[ForecastOptions, Series, Recipe | None]:
    """Read the series and settle every option the file decides: the recipe's values, the
    detected columns, the derived split dates. Bad data or dates raise ``BadInputError`` in a
    second, before any training."""
    o, recipe = apply_recipe(options, data_path)
    series = read_series(data_path, o.date_column, o.value_column, o.date_format, o.fill)
    o = resolve_periods(series, o.replace(date_column=series.date_column, value_column=series.value_column))
    make_splits(series, o)  # checks that the periods fit the series
    return o, series, recipe
