"""Baselines and metrics on synthetic series whose right answers are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from inkcast.runtime.errors import BadInputError
from inkcast.training.baselines import forecast_metrics, sarima_forecasts, seasonal_naive

WEEK = np.array([100.0, 110.0, 120.0, 130.0, 140.0, 60.0, 50.0])


def weekly(n_weeks: int) -> np.ndarray:
    return np.tile(WEEK, n_weeks)


def test_seasonal_naive_is_exact_on_a_weekly_periodic_series():
    y = weekly(10)
    origins = np.arange(6, len(y) - 7)
    f = seasonal_naive(y, origins, 7)
    targets = y[origins[:, None] + np.arange(1, 8)]
    np.testing.assert_array_equal(f, targets)
    m = forecast_metrics(f, targets)
    assert m["mae"] == 0 and m["mape"] == 0 and all(d["mae"] == 0 for d in m["per_horizon"])


def test_seasonal_naive_reads_one_week_back_and_wraps_longer_horizons():
    y = np.arange(40, dtype=float)
    f = seasonal_naive(y, np.array([20]), 9)
    # day h after origin 20 is day 20+h; one period back (two for h > 7)
    np.testing.assert_array_equal(f[0], [14, 15, 16, 17, 18, 19, 20, 14, 15])
    with pytest.raises(BadInputError, match="7 days of history"):
        seasonal_naive(y, np.array([3]), 7)


def test_metrics_per_horizon_and_overall():
    actual = np.array([[100.0, 200.0], [50.0, 400.0]])
    pred = np.array([[110.0, 200.0], [40.0, 300.0]])
    m = forecast_metrics(pred, actual)
    assert m["per_horizon"][0] == {"day": 1, "mae": 10.0, "mape": pytest.approx(15.0)}  # 10 % and 20 %
    assert m["per_horizon"][1]["mae"] == 50.0 and m["per_horizon"][1]["mape"] == pytest.approx(12.5)
    assert m["mae"] == 30.0 and m["mape"] == pytest.approx(13.75) and m["forecasts"] == 2
    z = forecast_metrics(np.array([[1.0]]), np.array([[0.0]]))
    assert z["mae"] == 1.0 and np.isnan(z["mape"]) and z["zero_actuals_skipped_in_mape"] == 1


def test_sarima_learns_a_noisy_weekly_pattern_and_beats_seasonal_naive():
    rng = np.random.default_rng(0)
    y = weekly(60) + rng.normal(0, 5, 420)  # a fixed weekly profile plus independent noise
    train = (0, 299)
    origins = np.arange(299, 400)
    f, info = sarima_forecasts(y, train, origins, 7)
    assert f.shape == (len(origins), 7)
    targets = y[origins[:, None] + np.arange(1, 8)]
    sarima = forecast_metrics(f, targets)["mae"]
    naive = forecast_metrics(seasonal_naive(y, origins, 7), targets)["mae"]
    # Noise is N(0, 5): a perfect forecast has MAE 5*sqrt(2/pi) = 4.0; seasonal naive differences
    # two noisy days (std 5*sqrt(2), MAE 5.6). SARIMA's seasonal MA averages over weeks.
    assert sarima < 4.6 < naive
    assert info["order"] == [1, 0, 0] and info["seasonal_order"] == [0, 1, 1, 7]
    assert "no refit" in info["fitted_on"]


def test_sarima_updates_state_without_refitting():
    # A level shift after training: the filtered state must follow the new observations.
    y = np.concatenate([weekly(40), weekly(10) + 100.0])
    f, info = sarima_forecasts(y, (0, 279), np.array([279, 340]), 7)
    np.testing.assert_allclose(f[0], WEEK, atol=1.0)  # before the shift: the old profile
    # 61 days after the shift, the forecast is the new level (origin 340: next day is weekday 341 % 7)
    np.testing.assert_allclose(f[1], WEEK[(341 + np.arange(7)) % 7] + 100.0, atol=5.0)
    with pytest.raises(BadInputError, match="sorted and not before the end of the training period"):
        sarima_forecasts(y, (0, 279), np.array([200]), 7)


def test_weekday_median_ignores_one_holiday_per_weekday():
    from inkcast.training.baselines import weekday_median

    y = weekly(10)
    y[50] = 0.0  # a "holiday" inside the last 8 weeks before origin 62
    f = weekday_median(y, np.array([62]), 7, weeks=8)
    np.testing.assert_array_equal(f[0], y[63:70])  # the median is not moved by one outlier
    assert seasonal_naive(y, np.array([56]), 7)[0][0] == 0.0  # seasonal naive repeats it a week later
    with pytest.raises(BadInputError, match="56 days of history"):
        weekday_median(y, np.array([20]), 7, weeks=8)
