"""Date splits: the default periods on the real series, origins, train-only scaling, refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from inkcast.runtime.errors import BadInputError
from inkcast.runtime.forecast_preprocess import windows
from inkcast.training.forecast_options import ForecastOptions
from inkcast.training.forecast_splits import make_splits, resolve_periods, resolve_run
from inkcast.data.series_csv import Series, read_series


@pytest.fixture(scope="module")
def cta(cta_csv) -> Series:
    return read_series(cta_csv, "service_date", "rail_boardings")


def synthetic(start: str, n: int) -> Series:
    values = np.arange(n, dtype=float) + 1.0
    return Series(path="synthetic.csv", date_column="d", value_column="v", date_format="%Y-%m-%d",
                  dates=np.datetime64(start, "D") + np.arange(n), values=values, lines=np.arange(n) + 2)


def test_default_periods_on_the_real_series(cta, cta_csv):
    o, series, recipe = resolve_run(ForecastOptions(), cta_csv)  # the file's header selects its recipe
    assert recipe.name == "cta-rail" and (o.date_column, o.value_column) == ("service_date", "rail_boardings")
    assert np.array_equal(series.values, cta.values)
    sp = make_splits(cta, o)
    d = lambda i: cta.dates[i].astype(dt.date)  # noqa: E731
    assert [d(i) for i in sp.bounds["train"]] == [dt.date(2016, 1, 1), dt.date(2018, 12, 31)]
    assert [d(i) for i in sp.bounds["val"]] == [dt.date(2019, 1, 1), dt.date(2019, 5, 31)]
    assert [d(i) for i in sp.bounds["test"]] == [dt.date(2019, 6, 1), dt.date(2019, 12, 31)]
    # test origins: the first forecasts 2019-06-01..07, the last 2019-12-25..31
    t = sp.origins["test"]
    assert d(t[0]) == dt.date(2019, 5, 31) and d(t[-1]) == dt.date(2019, 12, 24) and len(t) == 208
    assert len(sp.origins["val"]) == 145 and len(sp.origins["train"]) == 1096 - 56 - 7 + 1
    # the scaling is fitted on the training days only
    t0, t1 = sp.bounds["train"]
    assert sp.scaling.method == "mean" and sp.scaling.std is None
    assert sp.scaling.mean == pytest.approx(cta.values[t0 : t1 + 1].mean())
    assert sp.scaling.mean != pytest.approx(cta.values[t0 : sp.bounds["test"][1] + 1].mean())
    std = make_splits(cta, o.replace(scaling="standard", window_norm=False)).scaling
    assert std.mean == sp.scaling.mean and std.std == pytest.approx(cta.values[t0 : t1 + 1].std())


def test_any_other_csv_needs_no_options(cta, tmp_path: Path):
    """A real series under another header: its columns are found and the splits are proportions."""
    p = tmp_path / "bus.csv"
    p.write_text("day,riders\n" + "".join(f"{d},{int(v)}\n" for d, v in zip(cta.dates.astype(str), cta.values)))
    o, series, recipe = resolve_run(ForecastOptions(), p)
    assert recipe is None and (o.date_column, o.value_column) == ("day", "riders")
    n = len(series)
    periods = {q: tuple(dt.date.fromisoformat(v) for v in (getattr(o, f"{q}_start"), getattr(o, f"{q}_end")))
               for q in ("train", "val", "test")}
    days = {q: (e - s).days + 1 for q, (s, e) in periods.items()}
    assert periods["train"][0] == series.start and periods["test"][1] == series.end
    assert days["test"] == round(n * 0.1) and days["val"] == round(n * 0.1) and sum(days.values()) == n
    assert periods["val"][0] == periods["train"][1] + dt.timedelta(days=1)
    assert periods["test"][0] == periods["val"][1] + dt.timedelta(days=1)
    # given dates are kept, the rest derived around them; other fractions
    o2 = resolve_periods(series, ForecastOptions(train_start="2010-01-01", test_fraction=0.2, val_fraction=0.05))
    n2 = (series.end - dt.date(2010, 1, 1)).days + 1
    assert o2.train_start == "2010-01-01" and o2.test_end == series.end.isoformat()
    assert (series.end - dt.date.fromisoformat(o2.test_start)).days + 1 == round(n2 * 0.2)
    assert (dt.date.fromisoformat(o2.test_start) - dt.date.fromisoformat(o2.val_start)).days == round(n2 * 0.05)
    # the ridership file without its recipe: three numeric columns, so the value column must be named
    with pytest.raises(BadInputError, match="several columns could be the value: 'bus', 'rail_boardings', 'total_rides'"):
        resolve_run(ForecastOptions(recipe="none"), cta.path)
    o3, _, r3 = resolve_run(ForecastOptions(recipe="none", value_column="bus"), cta.path)
    assert r3 is None and o3.test_end == cta.end.isoformat() and o3.value_column == "bus"
    # a recipe fills only what is unset: one given split date means the user chooses the splits
    o4, _, r4 = resolve_run(ForecastOptions(test_start="2021-01-01"), cta.path)
    assert r4.name == "cta-rail" and o4.value_column == "rail_boardings" and o4.test_start == "2021-01-01"
    assert o4.test_end == cta.end.isoformat() and o4.train_start == cta.start.isoformat()
    for bad, match in ((dict(test_fraction=0.0), "test_fraction must be a fraction"),
                       (dict(val_fraction=0.45, test_fraction=0.45), "must leave at least 10 %"),
                       (dict(recipe="cta"), "no forecast recipe 'cta'; known: auto, none, cta-rail")):
        with pytest.raises(BadInputError, match=match):
            resolve_run(ForecastOptions(**bad), p)


def test_targets_stay_inside_their_period_and_training_inputs_too():
    s = synthetic("2020-01-01", 400)
    o = ForecastOptions(train_start="2020-01-01", train_end="2020-09-30", val_start="2020-10-01",
                        val_end="2020-11-15", test_start="2020-11-16", test_end="2021-01-31")
    sp = make_splits(s, o)
    for p in ("train", "val", "test"):
        lo, hi = sp.bounds[p]
        x, y = windows(s.values, o.window, o.horizon, sp.origins[p])
        day = lambda v: v.astype(int) - 1  # noqa: E731 (values are index + 1)
        if p == "train":  # training never reads before its period: the first window starts on day one
            assert day(x).min() == lo and day(y).min() == lo + o.window
        else:  # every day of validation and test is a target (inputs may reach into earlier periods)
            assert day(y).min() == lo
        assert day(y).max() == hi
        assert np.all(day(x[:, -1, 0]) == sp.origins[p])  # the input ends at the origin


def test_refusals():
    s = synthetic("2020-01-01", 400)
    base = dict(train_start="2020-01-01", train_end="2020-09-30", val_start="2020-10-01",
                val_end="2020-11-15", test_start="2020-11-16", test_end="2021-01-31")
    with pytest.raises(BadInputError, match=r"covers 2020-01-01..2021-02-03, but the test period 2020-11-16..2021-03-01"):
        make_splits(s, ForecastOptions(**{**base, "test_end": "2021-03-01"}))
    with pytest.raises(BadInputError, match="train period has 70 days: too few"):
        make_splits(s, ForecastOptions(**{**base, "train_end": "2020-03-10", "val_start": "2020-03-11"}))
    with pytest.raises(BadInputError, match="the val period .* has no forecast origin"):
        make_splits(s, ForecastOptions(**{**base, "val_end": "2020-10-04", "test_start": "2020-10-05"}))
    with pytest.raises(BadInputError, match="val period must start after the train period ends"):
        ForecastOptions(**{**base, "val_start": "2020-09-01"})
    with pytest.raises(BadInputError, match="test_end .* is before test_start"):
        ForecastOptions(**{**base, "test_end": "2020-11-01"})
    with pytest.raises(BadInputError, match="option val_start: '2020-13-01' is not an ISO date"):
        ForecastOptions(**{**base, "val_start": "2020-13-01"})


def test_options_roundtrip_and_refusals(tmp_path: Path):
    o = ForecastOptions(head="seq2seq", fill="ffill", lstm_units=16)
    p = tmp_path / "options.json"
    p.write_text(o.to_json())
    assert ForecastOptions.load(p) == o
    with pytest.raises(BadInputError, match="unknown forecast option"):
        ForecastOptions.from_dict({"lstm_unit": 3})
    with pytest.raises(BadInputError, match="head must be one of vector, seq2seq, auto"):
        ForecastOptions(head="transformer")
    with pytest.raises(BadInputError, match="window must be an integer >= 1"):
        ForecastOptions(window=0)
    with pytest.raises(BadInputError, match="skip_weeks 8 needs a window of at least 56 days"):
        ForecastOptions(window=28)
