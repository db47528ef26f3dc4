"""The forecast task: the last ``window`` daily values -> the next ``horizon`` days (``Forecaster``).

Model input ``series`` (batch, window, channels): the standardized channels of
``runtime.forecast_preprocess.features``; output ``forecast`` (batch, horizon): corrections to the
seasonal base in normalized units (``forecast_preprocess.finish`` turns them into values). Test
data is the training run's test period of the CSV series (or the run's ``test_windows.npz``).
Quality is the MAE in the series' units (lower is better).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import inkcast
from inkcast.runtime.errors import BadInputError, OptionsError
from inkcast.runtime.forecast_preprocess import (INPUT_NAME, OUTPUT_NAME, ForecastPreprocessing, ModelInput,
                                                 finish, make_input, windows)

from .base import EvalDataError, EvalInputs, Judgement, Reference, TaskSpec


def refuse_temperature(temperature: float | None) -> None:
    """An output temperature is a classifier's; a forecaster refuses one."""
    if temperature is not None:
        raise OptionsError("--temperature applies to a classifier's probabilities; a forecaster has none")


@dataclass
class ForecastTolerance:
    """How close a float32 file must stay to the Keras model on the test windows."""

    max_abs_difference: float = 1e-3  # largest |file - Keras| on the test windows, model output units


def test_period_windows(manifest: dict, data: str | Path):
    """The forecast origins of a bundle's test period in a CSV, as the training run defined them.

    Reads the series with the run's columns, date format and fill policy (from the manifest) and
    returns ``(series, origins, y)``: every origin whose ``horizon`` target days lie in the test
    period, and those targets (float64)."""
    from inkcast.data.series_csv import read_series

    opts = (manifest.get("training") or {}).get("options", {})
    prep = ForecastPreprocessing.from_dict(manifest["preprocessing"])
    s = read_series(data, opts.get("date_column", prep.series.get("date_column")),
                    opts.get("value_column", prep.series.get("value_column")), opts.get("date_format"),
                    opts.get("fill"))
    start, end = s.index_of(opts["test_start"]), s.index_of(opts["test_end"])
    if start < 0 or end >= len(s):
        raise EvalDataError(f"{data}: the series covers {s.start}..{s.end}, not the test period "
                            f"{opts['test_start']}..{opts['test_end']}")
    origins = np.arange(max(start - 1, prep.window - 1), end - prep.horizon + 1)
    _, y = windows(s.values, prep.window, prep.horizon, origins)
    return s, origins, y.astype(np.float64)


def _forecasts(prep: ForecastPreprocessing, outputs: np.ndarray, inp: ModelInput) -> np.ndarray:
    """Model outputs -> forecasts in the series' units."""
    return prep.scaling.invert(finish(outputs, inp))


class ForecastSpec(TaskSpec):
    name = "forecast"
    input_name = INPUT_NAME
    output_name = OUTPUT_NAME
    runtime_module = "inkcast.runtime.forecaster"
    runtime_class = "Forecaster"
    quality_metric = "mae"
    quality_higher_is_better = False
    quality_unit = "series units"
    variants = ("tflite-float32", "tflite-float16", "tflite-dynamic-int8", "tflite-int8", "tflite-16x8",
                "onnx-float32", "onnx-dynamic-int8", "onnx-static-int8")
    # 16x8 is left out of the defaults: the converter refuses it for this graph ("Expected bias
    # type to be TensorType_INT32"); it can still be asked for by name.
    default_variants = ("tflite-float32", "tflite-float16", "tflite-dynamic-int8", "tflite-int8", "onnx-float32",
                        "onnx-dynamic-int8", "onnx-static-int8")

    # ------------------------------------------------------------ export side
    def load_model(self, run_dir: str | Path, temperature: float | None = None) -> Any:
        from inkcast.training.train_forecast import load_forecast_run

        refuse_temperature(temperature)
        return load_forecast_run(run_dir)[0]

    def load_reference(self, run_dir: str | Path, calibration_samples: int,
                       temperature: float | None = None) -> Reference:
        from inkcast.training.baselines import forecast_metrics
        from inkcast.training.train_forecast import load_forecast_run

        refuse_temperature(temperature)
        run = Path(run_dir)
        for name in ("metrics.json", "test_windows.npz"):
            if not (run / name).is_file():
                raise BadInputError(f"{run / name}: not found; is {run} a run folder made by `inkcast train forecast`?")
        model, o, prep = load_forecast_run(run)
        with np.load(run / "test_windows.npz") as z:
            test = {k: z[k] for k in z.files}
        for key in ("x", "base", "level", "y", "keras_forecast"):
            if key not in test:
                raise BadInputError(f"{run / 'test_windows.npz'} has no {key!r} array: a run from an older inkcast; "
                                    "train it again with `inkcast train forecast`")
        calibration = np.zeros((0, prep.window, prep.channels), np.float32)
        if (run / "calibration.npz").is_file():
            with np.load(run / "calibration.npz") as z:
                calibration = z["x"]
        inp = ModelInput(test["x"], test["base"], test["level"])
        y = test["y"].astype(np.float64)
        outputs = self.keras_outputs(model, inp.x)
        keras_forecast = _forecasts(prep, outputs, inp)
        rel = np.abs(keras_forecast - test["keras_forecast"]).max() / np.abs(test["keras_forecast"]).max()
        if rel > 1e-4:
            from inkcast.export.errors import ExportValidationError

            raise ExportValidationError(f"{run}: the rebuilt model does not reproduce the run's own test forecasts "
                                        f"(max difference {rel:.2e} of the largest forecast); the run folder is inconsistent")
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        return Reference(run_dir=run, model=model, preprocessing=prep, train_options=o.to_dict(), inputs=list(inp.x),
                         targets=y, outputs=outputs, metrics=forecast_metrics(keras_forecast, y),
                         calibration=list(calibration[:calibration_samples]),
                         extra={"model_input": inp, "run_metrics": metrics})

    def keras_outputs(self, model: Any, inputs: Sequence[np.ndarray]) -> np.ndarray:
        return model.predict(np.stack(inputs), batch_size=256, verbose=0)

    def tflite_shape(self, ref: Reference) -> tuple[int | None, ...]:
        return (1, ref.preprocessing.window, ref.preprocessing.channels)

    def onnx_shape(self, ref: Reference) -> tuple[int | None, ...]:
        return (None, ref.preprocessing.window, ref.preprocessing.channels)

    def onnx_metadata(self, ref: Reference) -> dict[str, str]:
        return {"task": self.name, "producer": f"inkcast {inkcast.__version__}",
                "preprocessing": json.dumps(ref.preprocessing.to_dict())}

    model_title = "inkcast 7-day forecaster"

    def model_description(self, ref: Reference) -> str:
        prep: ForecastPreprocessing = ref.preprocessing
        return (f"Forecasts the next {prep.horizon} days of a daily series from its last {prep.window} values. "
                "Inputs and outputs follow the inkcast preprocessing contract (runtime/forecast_preprocess.py) "
                "with these parameters: " + json.dumps(prep.to_dict(), sort_keys=True))

    def run_file(self, model: Any, ref: Reference) -> np.ndarray:
        return model.run(np.stack(ref.inputs))

    def default_tolerance(self) -> ForecastTolerance:
        return ForecastTolerance()

    def judge(self, outputs: np.ndarray, ref: Reference, dtype: str, tolerance: ForecastTolerance,
              max_drop: float) -> Judgement:
        from inkcast.training.baselines import forecast_metrics

        diff = float(np.abs(outputs - ref.outputs).max())
        m = forecast_metrics(_forecasts(ref.preprocessing, outputs, ref.extra["model_input"]), ref.targets)
        drop = 100.0 * (m["mae"] - ref.metrics["mae"]) / ref.metrics["mae"]
        acc = {"test_mae": m["mae"], "test_mape": m["mape"], "mae_drop_percent": drop, "max_abs_difference_scaled": diff}
        if dtype == "float32":
            problem = None if diff <= tolerance.max_abs_difference else (
                f"max difference from Keras {diff:.2e} (scaled units; limit {tolerance.max_abs_difference})")
        else:
            problem = None if drop <= max_drop else (
                f"test MAE {drop:+.2f} % against Keras float32 (limit max_drop {max_drop} %)")
        return Judgement(acc, problem, f"test MAE {m['mae']:.6g} ({drop:+.2f} %)  max |d| {diff:.2e}",
                         extra={"per_horizon_test_mae": [d["mae"] for d in m["per_horizon"]]})

    def manifest_fields(self, ref: Reference) -> dict[str, Any]:
        prep: ForecastPreprocessing = ref.preprocessing
        metrics = ref.extra["run_metrics"]
        w, h = prep.window, prep.horizon
        t = metrics["test"]
        p = metrics["periods"]["test"]
        return {
            "task": self.name,
            "preprocessing": prep.to_dict(),
            "input": {"name": INPUT_NAME, "shape": ["batch", w, prep.channels], "dtype": "float32",
                      "description": f"the last {w} daily values, oldest first, as the standardized channels "
                                     f"{list(prep.features)} (forecast_preprocess.features); TFLite files take batch 1"},
            "output": {"name": OUTPUT_NAME, "shape": ["batch", h], "dtype": "float32",
                       "description": f"the next {h} days, day 1 first, as corrections to the seasonal base in "
                                      "normalized units: forecast = (output + base) * level, then invert scaling "
                                      "(forecast_preprocess.finish)"},
            "reference": {
                "model": "keras float32", "period": [p["start"], p["end"]], "origins": p["origins"],
                "units": metrics["units"], "head": metrics["head"],
                **{f"{k}_mae": t[k]["mae"] for k in ("model", "seasonal_naive", "sarima")},
                **{f"{k}_mape": t[k]["mape"] for k in ("model", "seasonal_naive", "sarima")},
                "model_per_horizon_mae": [d["mae"] for d in t["model"]["per_horizon"]],
            },
            "training": {"run_dir": str(ref.run_dir), "options": ref.train_options},
        }

    def validation_fields(self, ref: Reference) -> dict[str, Any]:
        return {"windows": len(ref.inputs), "calibration_windows": len(ref.calibration)}

    # ------------------------------------------------------------ runtime side
    def open_runtime(self, bundle_dir: str | Path, variant: str, num_threads: int | None = None):
        from inkcast.runtime.forecaster import Forecaster

        return Forecaster(bundle_dir, variant=variant, num_threads=num_threads)

    def load_inputs(self, bundle: Any, data: str | Path | None, per_category: int | None) -> EvalInputs:
        """Windows of the last ``window`` values (the public input) and their targets.

        ``per_category`` caps the number of windows (the forecaster has no categories)."""
        prep = ForecastPreprocessing.from_dict(bundle.manifest["preprocessing"])
        notes: list[str] = []
        if data is not None:
            s, origins, y = test_period_windows(bundle.manifest, data)
            public = [np.asarray(s.values[t - prep.window + 1 : t + 1], dtype=np.float64) for t in origins]
            opts = (bundle.manifest.get("training") or {}).get("options", {})
            source = f"{data} (test period {opts['test_start']}..{opts['test_end']})"
        else:
            run_dir = (bundle.manifest.get("training") or {}).get("run_dir")
            path = Path(run_dir) / "test_windows.npz" if run_dir else None
            if path is None or not path.is_file():
                raise EvalDataError(
                    f"no test inputs: --data was not given and the run's test windows are not available "
                    f"({path or 'the manifest has no training.run_dir'}). Pass --data FILE.csv (the daily series)")
            with np.load(path) as z:
                if "windows" not in z.files:
                    raise EvalDataError(f"{path} is from an older inkcast (no 'windows'); pass --data FILE.csv")
                x, y = z["windows"], z["y"].astype(np.float64)
            public = [prep.scaling.invert(w) for w in x]  # the runtime's input is the unscaled window
            source, notes = str(path), ["predict() inputs are the stored test windows, unscaled"]
        if per_category is not None:
            public, y = public[:per_category], y[:per_category]
        rows = [make_input(v, prep).x[0] for v in public]
        return EvalInputs(rows, public, np.asarray(y, np.float64), source, notes)

    def subset(self, inputs: EvalInputs, per_category: int | None) -> EvalInputs:
        """The forecaster has no categories: the first ``5 * per_category`` windows (all if None)."""
        if per_category is None:
            return inputs
        n = min(5 * per_category, len(inputs))
        return inputs.take(range(n), f"{inputs.source}, first {n} windows")

    def outputs(self, rt: Any, inputs: EvalInputs) -> np.ndarray:
        return rt.predict_batch(inputs.public)

    def from_model_outputs(self, bundle: Any, raw: np.ndarray, inputs: EvalInputs) -> np.ndarray:
        """Keras outputs are the network's (``finish`` makes forecasts); the runtime's are in the series' units."""
        prep = ForecastPreprocessing.from_dict(bundle.manifest["preprocessing"])
        return _forecasts(prep, raw, ModelInput.concat([make_input(v, prep) for v in inputs.public]))

    def quality(self, outputs: np.ndarray, inputs: EvalInputs, reference: np.ndarray | None) -> dict[str, Any]:
        from inkcast.training.baselines import forecast_metrics

        y = inputs.targets
        m = forecast_metrics(outputs, y)
        q = {"metric": "mae", **m, "value": m["mae"], "items": int(len(y)),
             "per_horizon_mae": [d["mae"] for d in m["per_horizon"]]}
        if reference is not None:
            q["reference_value"] = float(np.abs(reference - y).mean())
            q["drop_points"] = q["mae"] - q["reference_value"]  # the MAE increase, in the series' units
            q["max_abs_difference"] = float(np.abs(reference - outputs).max())
        return q

    def baselines(self, inputs: EvalInputs) -> dict[str, np.ndarray]:
        """The seasonal naive forecast (each day repeats the same weekday of the last week)."""
        from inkcast.training.baselines import seasonal_naive

        h = inputs.targets.shape[1]
        return {"seasonal_naive": np.stack([seasonal_naive(w, np.array([len(w) - 1]), h)[0] for w in inputs.public])}

    def evaluation_table(self, results: dict[str, dict[str, Any]]) -> str:
        names = list(results)
        w = max(len(n) for n in names) + 2
        fmt = number_format([r["mae"] for r in results.values()])
        lines = [f"{'day':>5s}" + "".join(f"{n:>{w}s}" for n in names) + "   (MAE)"]
        for h in range(len(results[names[0]]["per_horizon"])):
            lines.append(f"{h + 1:5d}" + "".join(f"{results[n]['per_horizon'][h]['mae']:{w}{fmt}}" for n in names))
        lines.append(f"{'all':>5s}" + "".join(f"{results[n]['mae']:{w}{fmt}}" for n in names))
        lines.append(f"{'MAPE':>5s}" + "".join(f"{results[n]['mape']:{w - 1}.2f}%" for n in names))
        return "\n".join(lines)

    def item_json(self, item: Any) -> str:
        return json.dumps([float(v) for v in item])


def figure(value: float, digits: int = 4) -> str:
    """One figure with ``digits`` significant digits: "2.106" for a temperature MAE, "61,777" for
    a ridership one (never "2": a rounded-away figure reads as a different result)."""
    return format(value, number_format([value], digits))


def number_format(values: list[float], digits: int = 4) -> str:
    """A format spec that shows ``digits`` significant digits of the smallest value, e.g. ",.0f"
    for MAEs in the tens of thousands and ".3f" for MAEs around 2."""
    smallest = min((abs(v) for v in values if v), default=1.0)
    decimals = max(0, digits - 1 - int(np.floor(np.log10(smallest))))
    return f",.{decimals}f"
