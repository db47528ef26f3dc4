"""Export a forecast run folder to a validated bundle (TFLite + ONNX + manifest.json).

Reuses the generic pieces of ``inkcast.export``: the converters, the atomic bundle writer and the
file-reading helpers. What is forecast-specific lives here: rebuilding the model from the run,
the manifest fields (``forecast_manifest_fields``) and the check of every converted file, run
through the runtime on the run's test windows, against the Keras forecasts. A file beyond the
tolerance stops the export and no bundle is written.

Manifest fields of a forecast bundle (besides ``format_version``, ``task``, ``variants``):

* ``preprocessing``: ``window``, ``horizon``, ``frequency`` ("D"), ``features``, ``scaling``
  (``{"method": "standard", "mean", "std"}`` or ``{"method": "mean", "mean"}``), ``series``
  (date/value columns, date format, fill policy, first/last date, training period);
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
from inkcast.runtime.forecast_preprocess import INPUT_NAME, OUTPUT_NAME, ForecastPreprocessing
from inkcast.training.baselines import forecast_metrics  # NumPy only at import time
from inkcast.training.io_utils import read_json

from .bundle_writer import write_bundle
from .validate import ExportValidationError

# TensorFlow (converters, model) is imported inside the export functions only: `inkcast evaluate`
# calls evaluate_forecast_cli from this module and must work with the runtime alone.

FORMATS = {  # name -> (file, backend)
    "tflite-float32": ("model.tflite", "tflite"),
    "onnx-float32": ("model.onnx", "onnx"),
}


@dataclass
class ForecastExportOptions:
    """What to export and how strictly to check it."""

    formats: tuple[str, ...] = ("tflite-float32", "onnx-float32")
    max_abs_difference: float = 1e-3  # largest |file - Keras| on the test windows, in scaled units
    onnx_opset: int = 17


def _io_details(path: Path, backend: str) -> dict[str, Any]:
    from .sketch_export import _io_details as io_details  # the generic reader of a file's tensors

    return io_details(path, backend)


def forecast_manifest_fields(prep: ForecastPreprocessing, metrics: dict[str, Any], run: Path,
                             options: dict[str, Any]) -> dict[str, Any]:
    """The task-specific part of a forecast bundle's manifest."""
    w, h = prep.window, prep.horizon
    t = metrics["test"]
    p = metrics["periods"]["test"]
    return {
        "task": "forecast",
        "preprocessing": prep.to_dict(),
        "input": {"name": INPUT_NAME, "shape": ["batch", w, 1], "dtype": "float32",
                  "description": f"the last {w} daily values, oldest first, scaled by preprocessing.scaling; "
                                 "TFLite files take batch 1"},
        "output": {"name": OUTPUT_NAME, "shape": ["batch", h], "dtype": "float32",
                   "description": f"the next {h} days, day 1 first, in scaled units (invert preprocessing.scaling)"},
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


def _convert(name: str, model: Any, prep: ForecastPreprocessing, o: ForecastExportOptions) -> bytes:
    from .converters import to_onnx, to_tflite_float32

    if name == "tflite-float32":
        return to_tflite_float32(model, (1, prep.window, 1), INPUT_NAME)
    meta = {"task": "forecast", "producer": f"inkcast {inkcast.__version__}",
            "preprocessing": json.dumps(prep.to_dict())}
    return to_onnx(model, (None, prep.window, 1), INPUT_NAME, OUTPUT_NAME, o.onnx_opset, meta)


def export_forecast(run_dir: str | Path, out_dir: str | Path, options: ForecastExportOptions | None = None,
                    log: Callable[[str], None] = print) -> dict[str, Any]:
    """Convert, validate on the test windows and write the bundle atomically; returns the manifest."""
    o = options or ForecastExportOptions()
    unknown = [f for f in o.formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown formats {unknown}; known: {', '.join(FORMATS)}")
    run = Path(run_dir)
    model, train_opts, prep, metrics, test = load_forecast_run(run)
    x, y = test["x"], test["y"].astype(np.float64)
    ref = model.predict(x, batch_size=256, verbose=0)
    stored = prep.scaling.apply(test["keras_forecast"])
    if np.abs(ref - stored).max() > 1e-3:
        raise ExportValidationError(f"{run}: the rebuilt model does not reproduce the run's own test forecasts "
                                    f"(max difference {np.abs(ref - stored).max():.2e}); the run folder is inconsistent")
    ref_metrics = forecast_metrics(prep.scaling.invert(ref), y)
    log(f"Keras reference on {len(x)} test windows: MAE {ref_metrics['mae']:.1f}")
    variants: dict[str, Any] = {}
    files: dict[str, Path] = {}
    failures = []
    with tempfile.TemporaryDirectory(prefix="inkcast-export-") as tmp:
        for name in o.formats:
            file, backend = FORMATS[name]
            t0 = time.monotonic()
            data = _convert(name, model, prep, o)
            path = Path(tmp) / file
            path.write_bytes(data)
            io = _io_details(path, backend)
            quant = {"input": io["input"]["quantization"], "output": io["output"]["quantization"]}
            out = open_model(path, backend, quantization=quant).run(x)
            diff = float(np.abs(out - ref).max())
            m = forecast_metrics(prep.scaling.invert(out), y)
            acc = {"test_mae": m["mae"], "test_mape": m["mape"], "per_horizon_mae": [d["mae"] for d in m["per_horizon"]],
                   "max_abs_difference_scaled": diff, "mae_difference_vs_keras": m["mae"] - ref_metrics["mae"]}
            ok = diff <= o.max_abs_difference
            log(f"  {name:16s} {len(data) / 1e3:8.1f} kB  test MAE {m['mae']:.1f}  max |d| {diff:.2e} (scaled)  "
                f"({time.monotonic() - t0:.1f} s)" + ("" if ok else "  FAILED"))
            if not ok:
                failures.append(f"{name}: max difference from Keras {diff:.2e} (scaled units; need <= {o.max_abs_difference})")
            variants[name] = {"file": file, "backend": backend, "dtype": "float32", "size_bytes": len(data),
                              "sha256": sha256_of(path), "input": io["input"], "output": io["output"],
                              "quantization": quant, "accuracy": acc, "passed": ok}
            files[file] = path
        if failures:
            raise ExportValidationError("export refused, no bundle written: " + "; ".join(failures))
        manifest = {
            "format_version": FORMAT_VERSION,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "inkcast_version": inkcast.__version__,
            **forecast_manifest_fields(prep, metrics, run, train_opts),
            "validation": asdict(o) | {"formats": list(o.formats), "windows": int(len(x))},
            "variants": variants,
        }
        write_bundle(out_dir, files, manifest)
    log(f"bundle written to {out_dir}")
    return manifest


def export_forecast_cli(a: Any) -> int:
    """``inkcast export RUN_DIR --out BUNDLE [--formats ...]`` for a forecast run."""
    o = ForecastExportOptions()
    if getattr(a, "formats", None):
        o.formats = tuple(f.strip() for f in a.formats.split(",") if f.strip())
    export_forecast(a.run_dir, a.out, o)
    return 0


def evaluate_forecast(bundle_dir: str | Path, data: str | Path, formats: list[str] | None = None) -> dict[str, Any]:
    """MAE/MAPE of each variant (and seasonal naive) over the test period of a CSV series.

    The test period and columns are the training run's (from the manifest); every origin whose
    seven target days lie in the period is forecast, exactly as in training.
    """
    from inkcast.runtime.forecast_preprocess import windows
    from inkcast.runtime.forecaster import Forecaster
    from inkcast.runtime.series_csv import read_series
    from inkcast.training.baselines import seasonal_naive

    b = load_bundle(bundle_dir, task="forecast")
    opts = b.manifest.get("training", {}).get("options", {})
    prep = ForecastPreprocessing.from_dict(b.manifest["preprocessing"])
    s = read_series(data, opts.get("date_column", prep.series.get("date_column")),
                    opts.get("value_column", prep.series.get("value_column")), opts.get("date_format"), opts.get("fill"))
    start, end = s.index_of(opts["test_start"]), s.index_of(opts["test_end"])
    if start < 0 or end >= len(s):
        raise BadInputError(f"{data}: the series covers {s.start}..{s.end}, not the test period "
                            f"{opts['test_start']}..{opts['test_end']}")
    origins = np.arange(max(start - 1, prep.window - 1), end - prep.horizon + 1)
    _, y = windows(s.values, prep.window, prep.horizon, origins)
    y = y.astype(np.float64)
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
    print(f"{'day':>5s}" + "".join(f"{n:>18s}" for n in names) + "   (MAE)")
    for h in range(len(res[names[0]]["per_horizon"])):
        print(f"{h + 1:5d}" + "".join(f"{res[n]['per_horizon'][h]['mae']:18,.0f}" for n in names))
    print(f"{'all':>5s}" + "".join(f"{res[n]['mae']:18,.0f}" for n in names))
    print(f"{'MAPE':>5s}" + "".join(f"{res[n]['mape']:17.2f}%" for n in names))
    return 0
