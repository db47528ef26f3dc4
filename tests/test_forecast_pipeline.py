"""The forecaster end to end on the real CTA series: train (small), export, run without TensorFlow.

One small real training run (both heads, a few epochs, tiny layers) feeds every test here; it
checks the run folder's contract, the baselines' figures against independent computations, the
exported bundle against Keras, and the runtime's answers and refusals. Accuracy at full training
is checked in ``test_forecast_accuracy.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inkcast.runtime.errors import BadInputError, BundleError
from tests.bundles import FORECAST_FORMATS, rewrite_manifest

FORMATS = FORECAST_FORMATS


@pytest.fixture(scope="module")
def run(forecast_run):
    return forecast_run


@pytest.fixture(scope="module")
def bundle(forecast_bundle) -> Path:
    return forecast_bundle


def test_run_folder_contract(run, cta_csv):
    out, m = run
    assert sorted(p.name for p in out.iterdir()) == ["calibration.npz", "forecast.png", "metrics.json",
                                                     "model.weights.h5", "options.json", "preprocessing.json",
                                                     "test_windows.npz"]
    with np.load(out / "calibration.npz") as z:  # training windows only: all before the validation period
        assert 150 <= len(z["x"]) <= 260 and z["x"].shape[1:] == (56, 2)  # value and weekday residual
    assert json.loads((out / "metrics.json").read_text()) == json.loads(json.dumps(m))
    # both heads were trained and the kept one has the lower validation MAE
    assert set(m["heads"]) == {"vector", "seq2seq"}
    assert m["head"] == min(m["heads"], key=lambda h: m["heads"][h]["val"]["mae"])
    opts = json.loads((out / "options.json").read_text())
    assert opts["task"] == "forecast" and opts["options"]["head"] == m["head"]
    assert m["requested_options"]["head"] == "auto" and m["options"]["max_epochs"] == 3
    for period in ("val", "test"):
        for method in ("model", "seasonal_naive", "sarima"):
            r = m[period][method]
            assert [d["day"] for d in r["per_horizon"]] == list(range(1, 8))
            assert r["mae"] == pytest.approx(np.mean([d["mae"] for d in r["per_horizon"]]))
            assert 0 < r["mape"] < 100
    assert m["test"]["model"]["forecasts"] == 208 and m["val"]["model"]["forecasts"] == 145
    assert m["training_seconds"].keys() == {"vector", "seq2seq"} and m["total_seconds"] > 0
    # each head is the average of two members trained at seeds 7 and 8, each member's MAE recorded
    for head in m["heads"].values():
        assert [mem["seed"] for mem in head["members"]] == [7, 8]
        assert all(mem["val"]["mae"] > 0 and mem["epochs_run"] >= 1 for mem in head["members"])
    assert m["recipe"] == "cta-rail" and m["requested_options"]["value_column"] is None
    assert m["options"]["value_column"] == "rail_boardings" and m["options"]["test_end"] == "2019-12-31"
    png = (out / "forecast.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 30_000


def test_baseline_figures_match_an_independent_computation(run, cta_csv):
    """Seasonal naive recomputed from the raw CSV with the csv module alone."""
    import csv
    import datetime as dt

    rows = {}
    with open(cta_csv, newline="") as f:
        for r in csv.DictReader(f):
            rows[dt.datetime.strptime(r["service_date"], "%m/%d/%Y").date()] = float(r["rail_boardings"])
    errs = []
    day = dt.date(2019, 5, 31)
    while day + dt.timedelta(days=7) <= dt.date(2019, 12, 31):
        errs.append([abs(rows[day + dt.timedelta(days=h)] - rows[day + dt.timedelta(days=h - 7)]) for h in range(1, 8)])
        day += dt.timedelta(days=1)
    m = run[1]["test"]["seasonal_naive"]
    assert m["mae"] == pytest.approx(np.mean(errs)) and m["forecasts"] == len(errs) == 208
    assert m["mae"] == pytest.approx(61776.8, abs=0.1)
    # SARIMA with fixed parameters is deterministic: its figure is stable across runs
    assert run[1]["test"]["sarima"]["mae"] == pytest.approx(47262.7, rel=1e-3)
    assert run[1]["sarima"]["params"].keys() == {"ar.L1", "ma.S.L7", "sigma2"}


def test_scaling_is_fitted_on_train_and_recorded(run, cta_csv):
    from inkcast.data.series_csv import read_series

    s = read_series(cta_csv, "service_date", "rail_boardings")
    train = s.values[s.index_of("2016-01-01") : s.index_of("2018-12-31") + 1]
    prep = json.loads((run[0] / "preprocessing.json").read_text())
    assert prep["scaling"] == {"method": "mean", "mean": pytest.approx(train.mean())}
    assert prep["window"] == 56 and prep["horizon"] == 7
    assert prep["series"]["value_column"] == "rail_boardings" and prep["series"]["date_format"] == "%m/%d/%Y"


def test_training_is_reproducible():
    """Same seed, same data: identical weights (op determinism), on a small synthetic series."""
    from inkcast.training.forecast_options import ForecastOptions
    from inkcast.training.train_forecast import fit_model

    from inkcast.runtime.forecast_preprocess import ForecastPreprocessing, Scaling
    from inkcast.training.train_forecast import Period

    rng = np.random.default_rng(0)
    series = 1 + 0.1 * rng.normal(size=200)
    prep = ForecastPreprocessing(scaling=Scaling("mean", 1.0), window=56, horizon=7, window_norm=True,
                                 base="weekday_median", base_weeks=8, features=("value", "weekday_residual"))
    data = {"train": Period(series, np.arange(55, 150), prep), "val": Period(series, np.arange(150, 190), prep)}
    o = ForecastOptions(max_epochs=2, patience=2, lstm_units=4, conv_filters=4, head="seq2seq")
    a, _ = fit_model(o, "seq2seq", data)
    b, _ = fit_model(o, "seq2seq", data)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_bundle_manifest_and_agreement_with_keras(run, bundle):
    m = json.loads((bundle / "manifest.json").read_text())
    assert m["task"] == "forecast" and set(m["variants"]) == set(FORMATS) and m["unavailable"] == {}
    assert m["preprocessing"] == json.loads((run[0] / "preprocessing.json").read_text())
    assert m["input"]["name"] == "series" and m["output"]["name"] == "forecast"
    assert m["reference"]["model_mae"] == pytest.approx(run[1]["test"]["model"]["mae"])
    for name in ("tflite-float32", "onnx-float32"):
        a = m["variants"][name]["accuracy"]
        assert a["max_abs_difference_scaled"] <= 1e-4, name
        assert a["test_mae"] == pytest.approx(m["reference"]["model_mae"], rel=1e-5)
    for name in ("tflite-dynamic-int8", "onnx-dynamic-int8", "tflite-int8"):  # int8: within the 0.5 % gate
        v = m["variants"][name]
        assert v["passed"] and v["accuracy"]["mae_drop_percent"] <= 0.5, name
    assert m["variants"]["tflite-int8"]["input"]["dtype"] == "int8"  # full integer, int8 I/O
    assert m["input"]["shape"] == ["batch", 56, 2] and m["preprocessing"]["features"] == ["value", "weekday_residual"]
    std = m["preprocessing"]["input_standardization"]  # fitted on the training windows: not the identity
    assert len(std["mean"]) == 2 and min(std["std"]) > 0 and std != {"mean": [0.0, 0.0], "std": [1.0, 1.0]}
    assert (bundle / "accuracy.md").read_text().startswith("# Accuracy of each variant (forecast bundle)")
    from ai_edge_litert.interpreter import Interpreter

    ops = {d["op_name"] for d in Interpreter(model_path=str(bundle / "model.tflite"))._get_ops_details()}
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops and "WHILE" not in ops


def test_forecaster_matches_the_runs_keras_forecasts(run, bundle, cta_csv):
    from inkcast.runtime.forecaster import Forecaster
    from inkcast.data.series_csv import read_series

    with np.load(run[0] / "test_windows.npz") as z:
        keras_fc, origin_dates = z["keras_forecast"], z["origin_dates"]
    s = read_series(cta_csv, "service_date", "rail_boardings")
    for backend in ("tflite", "onnx"):
        f = Forecaster(bundle, backend=backend)
        assert f.window == 56 and f.horizon == 7 and f.variant == f"{backend}-float32"
        for i in (0, 100, 207):
            t = s.index_of(str(origin_dates[i]))
            got = f.predict(s.values[: t + 1])  # the whole history; only the last 56 days are read
            np.testing.assert_allclose(got, keras_fc[i], rtol=1e-4)
        batch = f.predict_batch([s.values[: s.index_of(str(d)) + 1] for d in origin_dates[:5]])
        np.testing.assert_allclose(batch, keras_fc[:5], rtol=1e-4)


def test_export_gate_refuses_and_writes_nothing(run, tmp_path):
    from inkcast.export.errors import ExportValidationError
    from inkcast.export.pipeline import ExportOptions, export_run
    from inkcast.tasks.forecast import ForecastTolerance

    strict = ExportOptions(variants=("onnx-float32",), tolerance=ForecastTolerance(max_abs_difference=-1.0))
    with pytest.raises(ExportValidationError, match="export refused, no bundle written: onnx-float32: max difference"):
        export_run(run[0], tmp_path / "b", strict, log=lambda m: None)
    assert list(tmp_path.iterdir()) == []  # no bundle and no half-written leftovers
    with pytest.raises(ValueError, match="unknown variants"):
        export_run(run[0], tmp_path / "b", ExportOptions(variants=("tflite-int3",)), log=lambda m: None)
    with pytest.raises(ValueError, match="--temperature applies to a classifier's probabilities"):
        export_run(run[0], tmp_path / "b", ExportOptions(variants=("onnx-float32",), temperature=2.0), log=lambda m: None)
    with pytest.raises(BadInputError, match="not found; is .* a run folder made by `inkcast train`"):
        export_run(tmp_path, tmp_path / "b", log=lambda m: None)


def test_forecaster_refuses_bad_input(bundle):
    from inkcast.runtime.forecaster import Forecaster

    f = Forecaster(bundle, backend="onnx")
    with pytest.raises(BadInputError, match="too few values: the model needs the last 56 days, got 55"):
        f.predict([500000.0] * 55)
    with pytest.raises(BadInputError, match="value 10 is nan"):
        f.predict([500000.0] * 10 + [float("nan")] + [500000.0] * 45)
    with pytest.raises(BadInputError, match="series 1: too few values"):
        f.predict_batch([[1.0] * 56, [1.0] * 3])
    dates = np.datetime64("2021-01-01") + np.arange(56)
    with pytest.raises(BadInputError, match="consecutive days, but 2021-01-10 is followed by 2021-01-12"):
        f.forecast(np.concatenate([dates[:10], dates[11:], dates[-1:] + 1]), [1.0] * 56)
    with pytest.raises(BadInputError, match="3 dates but 56 values"):
        f.forecast(dates[:3], [1.0] * 56)


def test_forecaster_refuses_a_bad_bundle(bundle, tmp_path):
    import shutil

    from inkcast.runtime.forecaster import Forecaster

    bad = tmp_path / "b"
    shutil.copytree(bundle, bad)
    m = json.loads((bad / "manifest.json").read_text())
    m["preprocessing"]["scaling"] = {"method": "standard", "mean": 1.0}
    rewrite_manifest(bad, m)
    with pytest.raises(BundleError, match="bad scaling in the manifest"):
        Forecaster(bad)
    m["task"] = "sketch"
    rewrite_manifest(bad, m)
    with pytest.raises(BundleError, match="expected a 'forecast' bundle"):
        Forecaster(bad)
    shutil.rmtree(bad)
    shutil.copytree(bundle, bad)
    (bad / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(BundleError, match="checksum mismatch"):
        Forecaster(bad, backend="onnx")


SCRIPT = r"""
import sys
from inkcast import HEAVY_MODULES
from inkcast.main import main
main(["forecast", sys.argv[1], sys.argv[2], "--backend", sys.argv[3]])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY_MODULES + ("statsmodels", "matplotlib", "pandas"))
print("HEAVY", heavy)
"""


def test_forecast_command_prints_the_next_seven_days_without_tensorflow(bundle, cta_csv):
    outs = {}
    for backend in ("tflite", "onnx"):
        res = subprocess.run([sys.executable, "-c", SCRIPT, str(bundle), str(cta_csv), backend],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        lines = res.stdout.strip().splitlines()
        assert lines[-1] == "HEAVY []"
        rows = [line.split("\t") for line in lines[1:-1]]
        assert [r[0] for r in rows] == [f"2021-12-0{d}" for d in range(1, 8)]
        outs[backend] = np.array([float(r[1]) for r in rows])
        assert np.all((outs[backend] > 0) & (outs[backend] < 1e6))
    np.testing.assert_allclose(outs["tflite"], outs["onnx"], rtol=1e-4)


def test_evaluate_reproduces_the_training_figures(run, bundle, cta_csv):
    from inkcast.tasks.evaluate import evaluate_bundle

    res = evaluate_bundle(bundle, cta_csv)
    assert res["seasonal_naive"]["mae"] == pytest.approx(run[1]["test"]["seasonal_naive"]["mae"])
    for name in ("tflite-float32", "onnx-float32"):
        assert res[name]["mae"] == pytest.approx(run[1]["test"]["model"]["mae"], rel=1e-5)
        assert res[name]["forecasts"] == 208


def test_cli_commands(bundle, cta_csv, tmp_path, capsys):
    from inkcast.main import main

    assert main(["forecast", str(bundle), str(cta_csv), "--backend", "onnx"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("# rail_boardings: the 7 days after 2021-11-30") and len(out) == 8
    assert main(["evaluate", str(bundle), str(cta_csv), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["seasonal_naive"]["mae"] == pytest.approx(61776.8, abs=0.1)
    gap = tmp_path / "gap.csv"
    gap.write_text("d,v\n2020-01-01,1\n2020-01-03,2\n")
    # refused before TensorFlow starts, with the file and line, and exit status 3 (bad input)
    assert main(["train", "forecast", str(gap), "--date-column", "d", "--value-column", "v",
                 "--out", str(tmp_path / "run")]) == 3
    err = capsys.readouterr().err
    assert "gap.csv, line 3: gap in the dates: no row for 2020-01-02" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
