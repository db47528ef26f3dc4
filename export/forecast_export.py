"""Export a forecast run folder to a validated bundle (TFLite + ONNX variants + manifest.json).

Reuses the generic pieces of ``inkcast.export``: the converters and quantizers, the atomic bundle
writer, the accuracy report and the file-reading helpers. What is forecast-specific lives here: rebuilding the model from the run,
the manifest fields (``forecast_manifest_fields``) and the check of every converted file, run
through the runtime on the run's test windows, against the Keras forecasts. A file beyond the
tolerance stops the export and no bundle is written.

Manifest fields of a forecast bundle (besides ``format_version``, ``task``, ``variants``):

* ``preprocessing``: the runtime contract of ``inkcast.runtime.forecast_preprocess`` (window,
  horizon, frequency "D", scaling, window_norm, base, features, input_standardization, series:
  date/value columns, date format, fill policy, first/last date, training period);
* ``input`` / ``output``: tensor names, shapes, dtypes and what they hold;
* ``reference``: the Keras model's and the baselines' test MAE/MAPE;
* ``training``: the run folder and its exact options.
"""

from __future__ import annotations

import datetime as _dt
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

import inkcast
from inkcast.runtime.backends import open_model
from inkcast.runtime.bundle import FORMAT_VERSION, load_bundle, sha256_of
from inkcast.runtime.errors import BadInputError
from inkcast.runtime.forecast_preprocess import INPUT_NAME, OUTPUT_NAME, ForecastPreprocessing, ModelInput, finish
from inkcast.training.baselines import forecast_metrics  # NumPy only at import time
from inkcast.training.io_utils import read_json

from .bundle_writer import write_bundle
from .model_io import io_details
from .validate import ExportValidationError

# TensorFlow (converters, model) is imported inside the export functions only: `inkcast evaluate`
# calls evaluate_forecast_cli from this module and must work with the runtime alone.

# name -> (file, backend, dtype, how it is made, description). Quantizers are export/quantize.py's.
FORMATS: dict[str, tuple[str, str, str, str, str]] = {
    "tflite-float32": ("model.tflite", "tflite", "float32", "float32", ""),
    "tflite-float16": ("model_float16.tflite", "tflite", "float16", "tflite_float16", "float16 weights, float32 compute"),
    "tflite-dynamic-int8": ("model_dynamic_int8.tflite", "tflite", "dynamic-int8", "tflite_dynamic_range",
                            "int8 weights, float activations"),
    "tflite-int8": ("model_int8.tflite", "tflite", "int8", "tflite_full_int8",
                    "full integer: int8 weights and activations, int8 input and output"),
    "tflite-16x8": ("model_16x8.tflite", "tflite", "16x8", "tflite_16x8", "int16 activations, int8 weights"),
    "onnx-float32": ("model.onnx", "onnx", "float32", "float32", ""),
    "onnx-dynamic-int8": ("model_dynamic_int8.onnx", "onnx", "dynamic-int8", "onnx_dynamic_int8",
                          "ONNX Runtime dynamic quantization, int8 weights"),
    "onnx-static-int8": ("model_static_int8.onnx", "onnx", "int8", "onnx_static_int8",
                         "static int8 QDQ, min-max calibration, per-channel weights"),
}
CALIBRATED = ("tflite_full_int8", "tflite_16x8", "onnx_static_int8")
# Exported when no formats are named. History of full-integer TFLite (CTA run, seed 42): while window
# normalization, the weekday-median base (top_k) and the residual channel were inside the graph,
# int8 activations doubled the test MAE (+100 %); they now run in the runtime's NumPy preprocessing
# (forecast_preprocess.features / finish), the graph reads standardized channels, and tflite-int8
# is back in the defaults. 16x8 stays out: the converter refuses it ("Expected bias type to be
# TensorType_INT32"); it can still be asked for by name.
DEFAULT_FORMATS = ("tflite-float32", "tflite-float16", "tflite-dynamic-int8", "tflite-int8", "onnx-float32",
                   "onnx-dynamic-int8", "onnx-static-int8")


@dataclass
class ForecastExportOptions:
    """What to export and how strictly to check it."""

    formats: tuple[str, ...] | None = None  # None: DEFAULT_FORMATS (unavailable ones recorded)
    max_abs_difference: float = 1e-3  # float32 files: largest |file - Keras| on the test windows, model output units
    max_drop: float = 0.5  # quantized files: % by which test MAE may exceed the Keras model's (CLI --max-drop)
    allow_drop: bool = False  # write quantized variants beyond max_drop anyway, marked in the manifest
    onnx_opset: int = 17


def forecast_manifest_fields(prep: ForecastPreprocessing, metrics: dict[str, Any], run: Path,
                             options: dict[str, Any]) -> dict[str, Any]:
    """The task-specific part of a forecast bundle's manifest."""
    w, h = prep.window, prep.horizon
    t = metrics["test"]
    p = metrics["periods"]["test"]
    return {
        "task": "forecast",
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
        "training": {"run_dir": str(run), "options": options},
    }


def load_forecast_run(run_dir: str | Path):
    """(keras model, options dict, preprocessing, metrics, test windows) of a run folder."""
    from inkcast.training.train_forecast import load_forecast_run as load

    run = Path(run_dir)
    for name in ("metrics.json", "test_windows.npz"):
        if not (run / name).is_file():
            raise BadInputError(f"{run / name}: not found; is {run} a run folder made by `inkcast train forecast`?")
    model, o, prep = load(run)
    with np.load(run / "test_windows.npz") as z:
        test = {k: z[k] for k in z.files}
    return model, o.to_dict(), prep, read_json(run / "metrics.json"), test


class _Converter:
    """Makes each variant's bytes; the float ONNX graph is converted once and reused by quantizers."""

    def __init__(self, model: Any, prep: ForecastPreprocessing, o: ForecastExportOptions, calibration: np.ndarray):
        self.model, self.prep, self.o, self.calibration = model, prep, o, calibration
        self._onnx: bytes | None = None

    def onnx_float(self) -> bytes:
        from .converters import to_onnx

        if self._onnx is None:
            meta = {"task": "forecast", "producer": f"inkcast {inkcast.__version__}",
                    "preprocessing": json.dumps(self.prep.to_dict())}
            self._onnx = to_onnx(self.model, (None, self.prep.window, self.prep.channels), INPUT_NAME, OUTPUT_NAME,
                                 self.o.onnx_opset, meta)
        return self._onnx

    def make(self, name: str) -> bytes:
        from . import quantize
        from .converters import to_tflite_float32

        _, backend, _, how, _ = FORMATS[name]
        shape = (1, self.prep.window, self.prep.channels)
        samples = list(self.calibration)
        if how in CALIBRATED and not samples:
            raise ExportValidationError(f"{name} needs calibration windows: the run has no calibration.npz")
        if backend == "onnx":
            if how == "float32":
                return self.onnx_float()
            if how == "onnx_static_int8":
                return quantize.onnx_static_int8(self.onnx_float(), INPUT_NAME, samples)
            return quantize.onnx_dynamic_int8(self.onnx_float())
        if how == "float32":
            return to_tflite_float32(self.model, shape, INPUT_NAME)
        fn = getattr(quantize, how)
        return fn(self.model, shape, INPUT_NAME, samples) if how in CALIBRATED else fn(self.model, shape, INPUT_NAME)


def export_forecast(run_dir: str | Path, out_dir: str | Path, options: ForecastExportOptions | None = None,
                    log: Callable[[str], None] = print) -> dict[str, Any]:
    """Convert, validate on the test windows and write the bundle atomically; returns the manifest.

    float32 files must match Keras within ``max_abs_difference``; quantized files may lose at most
    ``max_drop`` % of test MAE. A variant its converter or runtime refuses is recorded under
    ``unavailable`` when all variants were asked for, and is an error when asked for by name.
    """
    o = options or ForecastExportOptions()
    formats = tuple(o.formats) if o.formats else DEFAULT_FORMATS
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown formats {unknown}; known: {', '.join(FORMATS)}")
    run = Path(run_dir)
    model, train_opts, prep, metrics, test = load_forecast_run(run)
    calibration = np.zeros((0, prep.window, prep.channels), np.float32)
    if (run / "calibration.npz").is_file():
        with np.load(run / "calibration.npz") as z:
            calibration = z["x"]
    for key in ("x", "base", "level", "y", "keras_forecast"):
        if key not in test:
            raise BadInputError(f"{run / 'test_windows.npz'} has no {key!r} array: a run from an older inkcast; "
                                "train it again with `inkcast train forecast`")
    inp = ModelInput(test["x"], test["base"], test["level"])
    x, y = inp.x, test["y"].astype(np.float64)
    ref = model.predict(x, batch_size=256, verbose=0)
    forecast = lambda out: prep.scaling.invert(finish(out, inp))  # noqa: E731  (series units)
    rel = np.abs(forecast(ref) - test["keras_forecast"]).max() / np.abs(test["keras_forecast"]).max()
    if rel > 1e-4:
        raise ExportValidationError(f"{run}: the rebuilt model does not reproduce the run's own test forecasts "
                                    f"(max difference {rel:.2e} of the largest forecast); the run folder is inconsistent")
    ref_metrics = forecast_metrics(forecast(ref), y)
    log(f"Keras reference on {len(x)} test windows: MAE {ref_metrics['mae']:.1f}")
    conv = _Converter(model, prep, o, calibration)
    variants: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    files: dict[str, Path] = {}
    failures = []
    with tempfile.TemporaryDirectory(prefix="inkcast-export-") as tmp:
        for name in formats:
            file, backend, dtype, _, note = FORMATS[name]
            t0 = time.monotonic()
            path = Path(tmp) / file
            try:
                data = conv.make(name)
                path.write_bytes(data)
                io = io_details(path, backend)
                quant = {"input": io["input"]["quantization"], "output": io["output"]["quantization"]}
                out = open_model(path, backend, quantization=quant).run(x)
            except ExportValidationError:
                raise
            except Exception as e:  # a converter or runtime refusal: report it in its own words
                msg = f"{type(e).__name__}: {' '.join(str(e).split())[:400]}"
                if o.formats:
                    raise ExportValidationError(f"{name} could not be produced or run: {msg}") from None
                unavailable[name] = msg
                log(f"  {name:20s} unavailable: {msg}")
                continue
            diff = float(np.abs(out - ref).max())
            m = forecast_metrics(forecast(out), y)
            drop = 100.0 * (m["mae"] - ref_metrics["mae"]) / ref_metrics["mae"]
            acc = {"test_mae": m["mae"], "test_mape": m["mape"], "mae_drop_percent": drop,
                   "max_abs_difference_scaled": diff}
            if dtype == "float32":
                problem = None if diff <= o.max_abs_difference else (
                    f"max difference from Keras {diff:.2e} (scaled units; limit {o.max_abs_difference})")
            else:
                problem = None if drop <= o.max_drop else (
                    f"test MAE {drop:+.2f} % against Keras float32 (limit max_drop {o.max_drop} %)")
            ok = problem is None
            accepted = ok or (o.allow_drop and dtype != "float32")
            log(f"  {name:20s} {len(data) / 1e3:8.1f} kB  test MAE {m['mae']:.1f} ({drop:+.2f} %)  max |d| {diff:.2e}  "
                f"({time.monotonic() - t0:.1f} s)" + ("" if ok else ("  OVER THE LIMIT (written)" if accepted else "  FAILED")))
            if not accepted:
                failures.append(f"{name}: {problem}")
            variants[name] = {"file": file, "backend": backend, "dtype": dtype, "description": note,
                              "size_bytes": len(data), "sha256": sha256_of(path), "input": io["input"],
                              "output": io["output"], "quantization": quant, "accuracy": acc,
                              "per_horizon_test_mae": [d["mae"] for d in m["per_horizon"]], "passed": ok,
                              **({} if ok else {"allowed_drop": True, "problem": problem})}
            files[file] = path
        if failures:
            raise ExportValidationError("export refused, no bundle written: " + "; ".join(failures))
        if not variants:
            raise ExportValidationError("export refused, no bundle written: no variant could be produced")
        manifest = {
            "format_version": FORMAT_VERSION,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "inkcast_version": inkcast.__version__,
            **forecast_manifest_fields(prep, metrics, run, train_opts),
            "validation": asdict(o) | {"formats": list(formats), "windows": int(len(x)),
                                       "calibration_windows": int(len(calibration))},
            "variants": variants,
            "unavailable": unavailable,
        }
        from .accuracy_report import accuracy_report

        report_json, report_md = accuracy_report(manifest)
        write_bundle(out_dir, files, manifest, extra_text={"accuracy.json": report_json, "accuracy.md": report_md})
    log(f"bundle written to {out_dir}")
    return manifest


def export_forecast_cli(a: Any) -> int:
    """``inkcast export RUN_DIR --out BUNDLE [--formats ...]`` for a forecast run."""
    o = ForecastExportOptions()
    if getattr(a, "formats", None):
        o.formats = tuple(f.strip() for f in a.formats.split(",") if f.strip())
    if getattr(a, "max_drop", None) is not None:
        o.max_drop = float(a.max_drop)
    if getattr(a, "allow_drop", False):
        o.allow_drop = True
    export_forecast(a.run_dir, a.out, o)
    return 0


def evaluate_forecast(bundle_dir: str | Path, data: str | Path, formats: list[str] | None = None) -> dict[str, Any]:
    """MAE/MAPE of each variant (and seasonal naive) over the test period of a CSV series.

    The test period and columns are the training run's (from the manifest); every origin whose
    seven target days lie in the period is forecast, exactly as in training.
    """
    from inkcast.runtime.forecaster import Forecaster, test_period_windows
    from inkcast.training.baselines import seasonal_naive

    b = load_bundle(bundle_dir, task="forecast")
    prep = ForecastPreprocessing.from_dict(b.manifest["preprocessing"])
    s, origins, y = test_period_windows(b.manifest, data)
    results: dict[str, Any] = {}
    for name in formats or list(b.variants):
        f = Forecaster(bundle_dir, format=name)
        pred = f.predict_batch([s.values[t - prep.window + 1 : t + 1] for t in origins])
        results[name] = {"backend": f.backend, **forecast_metrics(pred, y)}
    results["seasonal_naive"] = {"backend": None, **forecast_metrics(seasonal_naive(s.values, origins, prep.horizon), y)}
    return results


def evaluate_forecast_cli(a: Any) -> int:
    """``inkcast evaluate BUNDLE --data FILE.csv`` for a forecast bundle: a per-horizon MAE table."""
    if not getattr(a, "data", None):
        raise BadInputError("evaluate needs --data FILE.csv (the series to evaluate the forecaster on)")
    b = load_bundle(a.bundle, task="forecast")
    if getattr(a, "format", None):
        formats = [a.format]
    elif getattr(a, "backend", "all") in (None, "all"):
        formats = list(b.variants)
    else:
        formats = [b.default_variant(a.backend)]
    res = evaluate_forecast(a.bundle, a.data, formats)
    if getattr(a, "json", False):
        print(json.dumps(res, indent=2))
        return 0
    names = list(res)
    w = max(len(n) for n in names) + 2
    print(f"{'day':>5s}" + "".join(f"{n:>{w}s}" for n in names) + "   (MAE)")
    for h in range(len(res[names[0]]["per_horizon"])):
        print(f"{h + 1:5d}" + "".join(f"{res[n]['per_horizon'][h]['mae']:{w},.0f}" for n in names))
    print(f"{'all':>5s}" + "".join(f"{res[n]['mae']:{w},.0f}" for n in names))
    print(f"{'MAPE':>5s}" + "".join(f"{res[n]['mape']:{w - 1}.2f}%" for n in names))
    return 0
