"""The forecast preprocessing contract (runtime, NumPy only): scaling, windows, refusals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from inkcast.runtime.errors import BadInputError, BundleError
from inkcast.runtime.forecast_preprocess import (ForecastPreprocessing, Scaling, features, finish, make_input,
                                                 next_dates, targets, validate_values, windows)

PREP = ForecastPreprocessing(scaling=Scaling("standard", 100.0, 10.0), window=14, horizon=7)
# the default forecaster's contract on a 2-week window: normalization, weekday-median base, residual channel
FULL = ForecastPreprocessing(scaling=Scaling("mean", 100.0), window=14, horizon=7, window_norm=True,
                             base="weekday_median", base_weeks=2, features=("value", "weekday_residual"),
                             input_mean=(1.0, 0.0), input_std=(0.5, 0.25))


def test_scaling_roundtrip_and_fit():
    s = Scaling.fit([1.0, 2.0, 3.0, 4.0])
    assert s.method == "standard" and s.mean == 2.5 and s.std == pytest.approx(np.std([1, 2, 3, 4]))
    x = np.array([0.0, 2.5, 10.0])
    np.testing.assert_allclose(s.invert(s.apply(x)), x, atol=1e-6)  # float32 in between
    m = Scaling.fit([2.0, 4.0], "mean")
    np.testing.assert_allclose(m.apply([3.0, 6.0]), [1.0, 2.0])
    assert Scaling.from_dict(m.to_dict()) == m and "std" not in m.to_dict()
    with pytest.raises(BadInputError, match="constant"):
        Scaling.fit([5.0, 5.0, 5.0])


def test_make_input_reads_the_last_window_values_scaled():
    values = list(range(1000, 1020))  # 20 values; the last 14 are 1006..1019
    x = make_input(values, PREP).x
    assert x.shape == (1, 14, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, 0], (np.arange(1006, 1020) - 100.0) / 10.0)
    np.testing.assert_array_equal(make_input(np.array(values), PREP).x, x)
    # older history is not read, so it may hold anything
    assert make_input([float("nan")] * 3 + values[-14:], PREP).x.shape == (1, 14, 1)


@pytest.mark.parametrize("values, message", [
    (list(range(13)), "too few values: the model needs the last 14 days, got 13"),
    ([1.0] * 13 + [float("nan")], "value 13 is nan"),
    ([1.0] * 5 + [float("inf")] + [1.0] * 8, "value 5 is inf"),
    ([1.0] * 13 + ["7"], "value 13 is not a number: '7'"),
    ([1.0] * 13 + [True], "value 13 is not a number: True"),
    ("12345678901234", "expected a 1-D sequence of numbers, got str"),
    (np.ones((14, 2)), r"got an array of shape \(14, 2\)"),
    (None, "expected a 1-D sequence of numbers, got NoneType"),
])
def test_bad_values_are_refused_clearly(values, message):
    with pytest.raises(BadInputError, match=message):
        make_input(values, PREP)


def test_windows_pair_inputs_with_the_following_days():
    v = np.arange(30, dtype=float)
    x, y = windows(v, 5, 3, np.array([4, 10]))
    np.testing.assert_array_equal(x[:, :, 0], [[0, 1, 2, 3, 4], [6, 7, 8, 9, 10]])
    np.testing.assert_array_equal(y, [[5, 6, 7], [11, 12, 13]])
    with pytest.raises(BadInputError, match="need values"):
        windows(v, 5, 3, np.array([3]))
    with pytest.raises(BadInputError, match="need values"):
        windows(v, 5, 3, np.array([27]))


def test_manifest_roundtrip_and_refusals():
    d = PREP.to_dict()
    assert d == {"window": 14, "horizon": 7, "frequency": "D", "features": ["value"],
                 "scaling": {"method": "standard", "mean": 100.0, "std": 10.0}, "window_norm": False,
                 "base": {"method": "none", "weeks": 1}, "input_standardization": {"mean": [0.0], "std": [1.0]},
                 "series": {}}
    assert ForecastPreprocessing.from_dict(d) == PREP
    assert ForecastPreprocessing.from_dict(FULL.to_dict()) == FULL
    # a manifest written before normalization/base/features moved out of the graph: the identity
    old = {k: d[k] for k in ("window", "horizon", "frequency", "features", "scaling", "series")}
    assert ForecastPreprocessing.from_dict(old) == PREP
    for bad, message in [({"base": {"method": "median"}}, "unknown base 'median'"),
                         ({"features": ["weekday_residual"]}, "features must be 'value' optionally followed"),
                         ({"input_standardization": {"mean": [0.0, 1.0], "std": [1.0]}},
                          r"input_mean must hold one finite number per feature \(1\)"),
                         ({"input_standardization": {"mean": [0.0], "std": [0.0]}}, "input_std must be positive"),
                         ({"base": "weekday_median"}, "'base' and 'input_standardization' must be objects"),
                         ({"base": {"method": "weekday_median", "weeks": 3}}, "base weeks 3 need a window of at least 21")]:
        with pytest.raises(BundleError, match=message):
            ForecastPreprocessing.from_dict({**d, **bad})
    with pytest.raises(BundleError, match="no 'scaling' field"):
        ForecastPreprocessing.from_dict({k: v for k, v in d.items() if k != "scaling"})
    with pytest.raises(BundleError, match="'window' must be a positive integer"):
        ForecastPreprocessing.from_dict({**d, "window": "14"})
    with pytest.raises(BundleError, match="bad scaling in the manifest: standard scaling needs a positive"):
        ForecastPreprocessing.from_dict({**d, "scaling": {"method": "standard", "mean": 1.0, "std": 0}})
    with pytest.raises(BundleError, match="only daily series"):
        ForecastPreprocessing.from_dict({**d, "frequency": "W"})


def test_next_dates():
    assert next_dates("2021-11-30", 3) == [dt.date(2021, 12, 1), dt.date(2021, 12, 2), dt.date(2021, 12, 3)]
    assert next_dates(dt.date(2020, 2, 28), 2) == [dt.date(2020, 2, 29), dt.date(2020, 3, 1)]
    with pytest.raises(BadInputError, match="not an ISO date"):
        next_dates("30/11/2021")


def test_validate_values_accepts_integer_arrays():
    np.testing.assert_array_equal(validate_values(np.arange(3), 3), [0.0, 1.0, 2.0])


def _weekly(weeks: int, profile=(1.0, 1.1, 1.2, 1.3, 1.4, 0.6, 0.5)) -> np.ndarray:
    return np.tile(np.asarray(profile), weeks)


def test_features_of_a_pure_weekly_series():
    """A series that repeats every week: the base is next week exactly, the residual channel is 0."""
    level = 2.0
    x = level * _weekly(2)[None, :]  # one 14-day window, already scaled
    inp = features(x, FULL, standardize=False)
    assert inp.x.shape == (1, 14, 2) and inp.x.dtype == np.float32
    mean_abs = np.abs(x).mean()
    np.testing.assert_allclose(inp.level, [[mean_abs + 1e-6]])
    np.testing.assert_allclose(inp.x[0, :, 0], x[0] / inp.level[0, 0], rtol=1e-6)  # the normalized window
    np.testing.assert_allclose(inp.x[0, :, 1], 0.0, atol=1e-6)  # no deviation from the weekly profile
    # the forecast of a zero correction is the same days of next week, in scaled units
    np.testing.assert_allclose(finish(np.zeros((1, 7)), inp), x[:, :7], rtol=1e-6)
    std = features(x, FULL)  # standardized with the contract's mean/std
    np.testing.assert_allclose(std.x[0, :, 0], (inp.x[0, :, 0] - 1.0) / 0.5, rtol=1e-5)
    np.testing.assert_allclose(std.x[0, :, 1], (inp.x[0, :, 1] - 0.0) / 0.25, atol=1e-5)


def test_base_is_the_weekday_median_and_residual_the_deviation_from_it():
    rng = np.random.default_rng(0)
    x = _weekly(2)[None, :] * (1 + 0.1 * rng.standard_normal((3, 14)))
    prep = ForecastPreprocessing(scaling=Scaling("mean", 1.0), window=14, horizon=7, base="weekday_median",
                                 base_weeks=2, features=("value", "weekday_residual"))
    inp = features(x, prep)
    # window 14 ends on day 13; forecast day h falls on the weekday of days 13+h-7 and 13+h-14
    for h in range(1, 8):
        np.testing.assert_allclose(inp.base[:, h - 1], np.median(x[:, [13 + h - 7, 13 + h - 14]], axis=1))
        np.testing.assert_allclose(inp.x[:, 13 + h - 7, 1], x[:, 13 + h - 7] - inp.base[:, h - 1], atol=1e-6)
    last = ForecastPreprocessing(scaling=Scaling("mean", 1.0), window=14, horizon=7, base="last_week")
    np.testing.assert_allclose(features(x, last).base, x[:, 7:14])


def test_finish_inverts_targets():
    rng = np.random.default_rng(1)
    x = 1 + 0.2 * rng.standard_normal((5, 14))
    y = 1 + 0.2 * rng.standard_normal((5, 7))
    inp = features(x, FULL)
    np.testing.assert_allclose(finish(targets(y, inp), inp), y, rtol=1e-5)
    with pytest.raises(BadInputError, match=r"expected windows of shape \(n, 14\), got \(5, 13\)"):
        features(x[:, 1:], FULL)


def test_window_norm_makes_the_forecast_scale_equivariant():
    """Half the series, half the forecast: the model sees the same input either way."""
    x = _weekly(2)[None, :] * 1.3
    a, b = features(x, FULL), features(x / 2, FULL)
    np.testing.assert_allclose(a.x, b.x, atol=1e-4)  # equal up to the level's 1e-6 guard
    out = np.full((1, 7), 0.05)
    np.testing.assert_allclose(finish(out, b), finish(out, a) / 2, rtol=1e-5)
