"""The forecaster's yardsticks, evaluated on exactly the model's forecast origins, and the metrics.

* Seasonal naive: day ``t + h`` is forecast as the value on the same weekday one week earlier,
  ``y[t + h - 7]`` (for h <= 7 these are the last seven observed days). It is exact on a purely
  weekly-periodic series and is the bar the model must clear (MAE <= 0.85 x seasonal naive).
* Weekday median (reported for reference): the median of the same weekday over the last 8 weeks,
  which is the model's seasonal skip base alone.
* SARIMA (statsmodels ``SARIMAX``, default order (1,0,0) x (0,1,1,7) with weekly seasonality).
  Its parameters are estimated **once**, on the training period only. As the origins advance,
  each new day is fed to the fitted model with ``results.extend`` (Kalman filter update of the
  state, no re-estimation), then ``forecast(horizon)`` is read. This mirrors what the neural model
  gets (weights fixed after training, only the input window moves) and keeps the whole test
  period to a few seconds instead of a refit per origin.

Metrics are computed in the series' original units: MAE and MAPE (in percent) for each horizon
day 1..h and over all days.
"""

from __future__ import annotations

import time
import warnings
from typing import Any, Sequence

import numpy as np

from inkcast.runtime.errors import BadInputError

WEEK = 7


def seasonal_naive(values: np.ndarray, origins: np.ndarray, horizon: int, period: int = WEEK) -> np.ndarray:
    """(n, horizon) forecasts: day h after origin t repeats day ``t + h - period * ceil(h / period)``."""
    values = np.asarray(values, dtype=np.float64)
    origins = np.asarray(origins, dtype=np.int64)
    h = np.arange(1, horizon + 1)
    back = period * -(-h // period)  # period * ceil(h / period)
    idx = origins[:, None] + h[None, :] - back[None, :]
    if origins.size and (idx.min() < 0 or origins.max() >= len(values)):
        raise BadInputError(f"seasonal naive needs {period} days of history before the first origin")
    return values[idx]


def weekday_median(values: np.ndarray, origins: np.ndarray, horizon: int, weeks: int = 8,
                   period: int = WEEK) -> np.ndarray:
    """(n, horizon) forecasts: the median of the same weekday over the last ``weeks`` weeks.

    Not a yardstick of the brief, but the forecaster's seasonal skip base on its own: reporting it
    shows how much the network adds on top of it.
    """
    values = np.asarray(values, dtype=np.float64)
    origins = np.asarray(origins, dtype=np.int64)
    h = np.arange(1, horizon + 1)
    back = period * -(-h // period)
    idx = origins[:, None, None] + (h - back)[None, :, None] - period * np.arange(weeks)[None, None, :]
    if origins.size and idx.min() < 0:
        raise BadInputError(f"the weekday median needs {weeks * period} days of history before the first origin")
    return np.median(values[idx], axis=2)


def sarima_forecasts(values: np.ndarray, train: tuple[int, int], origins: np.ndarray, horizon: int,
                     order: Sequence[int] = (1, 0, 0),
                     seasonal_order: Sequence[int] = (0, 1, 1, WEEK)) -> tuple[np.ndarray, dict[str, Any]]:
    """(n, horizon) SARIMA forecasts from each origin (sorted, after the training period).

    Fitted once on ``values[train[0] .. train[1]]``; see the module doc for how origins advance.
    Values are divided by the training std while fitting (a pure rescaling, for the optimizer's
    conditioning) and forecasts multiplied back.
    """
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    values = np.asarray(values, dtype=np.float64)
    origins = np.asarray(origins, dtype=np.int64)
    t0, t1 = train
    if origins.size and (origins.min() < t1 or np.any(np.diff(origins) < 0)):
        raise BadInputError("SARIMA origins must be sorted and not before the end of the training period")
    scale = float(values[t0 : t1 + 1].std()) or 1.0
    y = values / scale
    start = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = SARIMAX(y[t0 : t1 + 1], order=tuple(order), seasonal_order=tuple(seasonal_order)).fit(disp=False)
    fit_seconds = time.monotonic() - start
    out = np.zeros((len(origins), horizon), dtype=np.float64)
    last = t1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # extend() repeats the fit's own warnings
        for i, t in enumerate(origins):
            if t > last:
                res = res.extend(y[last + 1 : t + 1])
                last = int(t)
            out[i] = res.forecast(horizon)
    info = {
        "order": list(order),
        "seasonal_order": list(seasonal_order),
        "fitted_on": "train period only, once; state updated per origin with results.extend (no refit)",
        "params": {k: float(v) for k, v in zip(res.model.param_names, res.params)},
        "fit_warnings": sorted({str(w.message)[:200] for w in caught}),
        "fit_seconds": round(fit_seconds, 3),
        "total_seconds": round(time.monotonic() - start, 3),
    }
    return out * scale, info


def forecast_metrics(pred: np.ndarray, actual: np.ndarray) -> dict[str, Any]:
    """MAE and MAPE (%) per horizon day and overall, for (n, horizon) forecasts and targets.

    MAPE skips days whose actual value is 0 (and says how many), rather than dividing by zero.
    """
    pred = np.asarray(pred, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if pred.shape != actual.shape or pred.ndim != 2:
        raise ValueError(f"forecasts {pred.shape} and targets {actual.shape} must both be (n, horizon)")
    err = np.abs(pred - actual)
    nonzero = actual != 0
    ape = np.where(nonzero, err / np.where(nonzero, np.abs(actual), 1.0), np.nan) * 100.0

    def mape(a: np.ndarray) -> float:
        return float(np.nanmean(a)) if np.isfinite(a).any() else float("nan")

    return {
        "mae": float(err.mean()),
        "mape": mape(ape),
        "per_horizon": [
            {"day": h + 1, "mae": float(err[:, h].mean()), "mape": mape(ape[:, h])} for h in range(pred.shape[1])
        ],
        "forecasts": int(pred.shape[0]),
        "zero_actuals_skipped_in_mape": int((~nonzero).sum()),
    }
