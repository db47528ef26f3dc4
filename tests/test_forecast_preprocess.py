"""The forecast preprocessing contract (runtime, NumPy only): scaling, windows, refusals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from inkcast.runtime.errors import BadInputError, BundleError
from inkcast.runtime.forecast_preprocess import (ForecastPreprocessing, Scaling, make_input, next_dates,
                                                 validate_values, windows)

PREP = ForecastPreprocessing(scaling=Scaling("standard", 100.0, 10.0), window=14, horizon=7)


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
    x = make_input(values, PREP)
    assert x.shape == (1, 14, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, 0], (np.arange(1006, 1020) - 100.0) / 10.0)
    np.testing.assert_array_equal(make_input(np.array(values), PREP), x)
    # older history is not read, so it may hold anything
    assert make_input([float("nan")] * 3 + values[-14:], PREP).shape == (1, 14, 1)


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
                 "scaling": {"method": "standard", "mean": 100.0, "std": 10.0}, "series": {}}
    assert ForecastPreprocessing.from_dict(d) == PREP
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
