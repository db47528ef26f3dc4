"""Train / validation / test splits of a daily series by date, and their forecast origins.

A forecast origin ``t`` is the index of the last observed day; its input is the ``window`` days
ending at ``t`` and its target the ``horizon`` days after ``t``. A period owns the origins whose
*targets* lie wholly inside it. Training origins also keep their inputs inside the training period
(nothing after or before it is seen while fitting); validation and test inputs may reach back into
earlier periods, which is only history already observed at that origin. The scaling is fitted on
the training period's values alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inkcast.runtime.errors import BadInputError
from inkcast.runtime.forecast_preprocess import Scaling

from .forecast_options import ForecastOptions
from inkcast.data.series_csv import Series

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


def make_splits(series: Series, options: ForecastOptions) -> Splits:
    """Locate the three periods in the series, list their origins and fit the scaling on train."""
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
