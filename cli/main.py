"""The `inkcast` command: train, export, evaluate, predict, forecast, bench, demo.

Commands that need TensorFlow (train, export, demo) import it only when they run, so
`predict`, `evaluate` and `forecast` work with the runtime alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inkcast import __version__


def _err(msg: str) -> int:
    print(f"inkcast: error: {msg}", file=sys.stderr)
    return 2


# ---------------------------------------------------------------- train
def cmd_train_sketch(a: argparse.Namespace) -> int:
    from inkcast.training.quickdraw import QuickDrawOptions
    from inkcast.training.sketch_options import SketchTrainOptions
    from inkcast.training.train_sketch import train_sketch_from_folder

    o = SketchTrainOptions(data=QuickDrawOptions(
        categories=tuple(a.categories.split(",")) if a.categories else None,
        max_per_category=a.max_per_category, recognized_only=a.recognized_only))
    for key in ("epochs", "seed", "batch_size", "max_train_seconds", "patience"):
        if getattr(a, key) is not None:
            setattr(o, key, getattr(a, key))
    if a.no_augment:
        o.augment = False
    if getattr(a, "resample_spacing", None) is not None:  # `demo` trains without the flag
        if a.resample_spacing < 0:
            return _err(f"--resample-spacing must be 0 (off) or positive, got {a.resample_spacing}")
        o.resample_spacing = a.resample_spacing or None
    train_sketch_from_folder(a.data, a.out, o)
    print(f"run folder: {a.out} (metrics.json, model.weights.h5)")
    return 0


def cmd_train_forecast(a: argparse.Namespace) -> int:
    try:
        from inkcast.training.forecast_cli import train_forecast_cli
    except ImportError:
        return _err("the forecaster is not available in this build")
    return train_forecast_cli(a)


# ---------------------------------------------------------------- export
def cmd_export(a: argparse.Namespace) -> int:
    run = Path(a.run_dir)
    opts_file = run / "options.json"
    if not opts_file.is_file():
        return _err(f"{opts_file}: not found; give a run folder made by `inkcast train`")
    task = json.loads(opts_file.read_text())["task"]
    if task == "sketch":
        from inkcast.export.sketch_export import SketchExportOptions, export_sketch

        o = SketchExportOptions(max_drop=a.max_drop, allow_drop=a.allow_drop,
                                calibration_samples=a.calibration_samples)
        if a.formats:
            o.formats = tuple(f.strip() for f in a.formats.split(",") if f.strip())
        export_sketch(run, a.out, o)
        return 0
    if task == "forecast":
        from inkcast.export.forecast_export import export_forecast_cli

        return export_forecast_cli(a)
    return _err(f"{run}: unknown task {task!r}")


# ---------------------------------------------------------------- predict / evaluate
def _read_ndjson_drawings(path: Path):
    from inkcast.runtime.errors import BadInputError

    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise BadInputError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
            drawing = rec.get("drawing") if isinstance(rec, dict) else rec
            if drawing is None:
                raise BadInputError(f"{path}:{lineno}: the record has no 'drawing' field")
            yield lineno, rec if isinstance(rec, dict) else {}, drawing


def cmd_predict(a: argparse.Namespace) -> int:
    from inkcast.runtime import SketchRecognizer
    from inkcast.runtime.errors import BadInputError

    rec = SketchRecognizer(a.bundle, backend=a.backend, format=a.format)
    n = 0
    for lineno, meta, drawing in _read_ndjson_drawings(Path(a.file)):
        if a.limit and n >= a.limit:
            break
        try:
            top = rec.predict(drawing, top_k=a.top_k, raw={"auto": None, "yes": True, "no": False}[a.raw])
        except BadInputError as e:
            raise BadInputError(f"{a.file}:{lineno}: {e}") from None
        shown = "  ".join(f"{label} {p:.3f}" for label, p in top)
        word = f" (true: {meta['word']})" if "word" in meta else ""
        print(f"line {lineno}: {shown}{word}")
        n += 1
    return 0


def evaluate_bundle(bundle: Path, data: Path, formats: list[str]) -> dict:
    """Top-1/top-3 of each named variant on the test split of a Quick, Draw! folder."""
    import numpy as np

    from inkcast.runtime import SketchRecognizer
    from inkcast.runtime.bundle import load_bundle
    from inkcast.runtime.sketch_preprocess import SketchPreprocessing
    from inkcast.training.quickdraw import QuickDrawOptions, load_quickdraw

    b = load_bundle(bundle, task="sketch")
    prep = SketchPreprocessing.from_dict(b.manifest["preprocessing"])
    ds = load_quickdraw(data, QuickDrawOptions(categories=tuple(b.manifest["labels"])),
                        max_points=prep.max_points, spacing=prep.resample_spacing)
    test = ds["test"]
    results = {}
    for name in formats:
        r = SketchRecognizer(bundle, format=name)
        p = r.probabilities_of_features(test.features)
        top3 = np.argsort(-p, 1)[:, :3]
        results[name] = {"backend": r.backend, "top1": float((top3[:, 0] == test.y).mean()),
                         "top3": float((top3 == test.y[:, None]).any(1).mean()), "drawings": len(test)}
    return results


def cmd_evaluate(a: argparse.Namespace) -> int:
    from inkcast.runtime.bundle import load_bundle

    b = load_bundle(a.bundle)
    if b.task == "forecast":
        from inkcast.export.forecast_export import evaluate_forecast_cli

        return evaluate_forecast_cli(a)
    if a.format:
        formats = [a.format]
    elif a.backend == "all":
        formats = [b.default_variant(be) for be in ("tflite", "onnx") if any(
            v["backend"] == be for v in b.variants.values())]
    else:
        formats = [b.default_variant(a.backend)]
    if not a.data:
        return _err("evaluate needs --data DIR (a folder of <category>.ndjson files)")
    res = evaluate_bundle(Path(a.bundle), Path(a.data), formats)
    if a.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{'variant':18s} {'backend':8s} {'top-1':>7s} {'top-3':>7s} {'drawings':>9s}")
        for name, r in res.items():
            print(f"{name:18s} {r['backend']:8s} {r['top1']:7.4f} {r['top3']:7.4f} {r['drawings']:9d}")
    return 0


def cmd_forecast(a: argparse.Namespace) -> int:
    from inkcast.runtime.forecaster import forecast_cli

    return forecast_cli(a)


def cmd_bench(a: argparse.Namespace) -> int:
    from inkcast.benchmarks.cli import bench_cli

    return bench_cli(a)


# ---------------------------------------------------------------- demo (the main job)
def cmd_demo(a: argparse.Namespace) -> int:
    """Train -> export -> evaluate -> a few predictions, on real data or the built-in generator."""
    out = Path(a.out)
    if a.data:
        data = Path(a.data)
        print(f"[1/4] training on real Quick, Draw! files in {data}")
    else:
        from inkcast.training.synthetic import CATEGORIES, write_synthetic_quickdraw

        data = write_synthetic_quickdraw(out / "synthetic-quickdraw", per_category=a.synthetic_per_category)
        print(f"[1/4] no --data given: using the built-in generator of Quick, Draw!-format drawings "
              f"({', '.join(CATEGORIES)}; {a.synthetic_per_category} each) in {data}")
    ns = argparse.Namespace(data=str(data), out=str(out / "run"), categories=None,
                            max_per_category=a.max_per_category, recognized_only=False,
                            epochs=a.epochs, seed=None, batch_size=None,
                            max_train_seconds=a.max_train_seconds, patience=None, no_augment=False)
    cmd_train_sketch(ns)
    print("[2/4] exporting")
    cmd_export(argparse.Namespace(run_dir=str(out / "run"), out=str(out / "bundle"), formats=a.formats,
                                  max_drop=0.5, allow_drop=True, calibration_samples=300))
    print("[3/4] evaluating the bundle on the test split")
    cmd_evaluate(argparse.Namespace(bundle=str(out / "bundle"), data=str(data), backend="all",
                                    format=None, json=False))
    print("[4/4] a few predictions")
    files = sorted(Path(data).glob("*.ndjson"))
    from inkcast.runtime import SketchRecognizer

    rec = SketchRecognizer(out / "bundle", backend="tflite")
    for f in files:
        _, meta, drawing = next(_read_ndjson_drawings(f))
        top = rec.predict(drawing)
        print(f"  {f.stem:12s} -> " + "  ".join(f"{label} {p:.3f}" for label, p in top))
    print(f"done: bundle in {out / 'bundle'}")
    return 0


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="inkcast", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"inkcast {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    tr = sub.add_parser("train", help="train a model").add_subparsers(dest="task", required=True)
    ts = tr.add_parser("sketch", help="train the sketch recognizer on Quick, Draw! ndjson files")
    ts.add_argument("--data", required=True, help="folder of <category>.ndjson files")
    ts.add_argument("--out", required=True, help="run folder to write")
    ts.add_argument("--categories", help="comma-separated subset (default: every file)")
    ts.add_argument("--max-per-category", type=int)
    ts.add_argument("--recognized-only", action="store_true")
    ts.add_argument("--epochs", type=int)
    ts.add_argument("--batch-size", type=int)
    ts.add_argument("--patience", type=int)
    ts.add_argument("--seed", type=int)
    ts.add_argument("--max-train-seconds", type=float)
    ts.add_argument("--no-augment", action="store_true")
    ts.add_argument("--resample-spacing", type=float,
                    help="arc-length resampling step of the model input in the 0..255 frame "
                         "(default 24; 0 = the drawing's own points, the earlier input)")
    ts.set_defaults(func=cmd_train_sketch)
    tf_ = tr.add_parser("forecast", help="train the 7-day forecaster on a daily CSV series")
    tf_.add_argument("--data", required=True, help="CSV file")
    tf_.add_argument("--date-column", default="service_date")
    tf_.add_argument("--value-column", default="rail_boardings")
    tf_.add_argument("--date-format", help="strptime format (default: detected)")
    tf_.add_argument("--fill", choices=["interpolate", "ffill", "zero"], help="policy for date gaps")
    tf_.add_argument("--train-start"), tf_.add_argument("--train-end")
    tf_.add_argument("--valid-start"), tf_.add_argument("--valid-end")
    tf_.add_argument("--test-start"), tf_.add_argument("--test-end")
    tf_.add_argument("--window", type=int)
    tf_.add_argument("--epochs", type=int)
    tf_.add_argument("--seed", type=int)
    tf_.add_argument("--head", choices=["vector", "seq2seq"])
    tf_.add_argument("--out", required=True)
    tf_.set_defaults(func=cmd_train_forecast)

    ex = sub.add_parser("export", help="export a run folder to a validated TFLite/ONNX bundle")
    ex.add_argument("run_dir")
    ex.add_argument("--out", required=True, help="bundle folder to write (atomically)")
    ex.add_argument("--formats", help="comma-separated variant names (default: all), e.g. "
                    "tflite-float32,tflite-int8,onnx-float32")
    ex.add_argument("--max-drop", type=float, default=0.5,
                    help="fail if a quantized variant loses more top-1 points than this (default 0.5)")
    ex.add_argument("--allow-drop", action="store_true",
                    help="write variants beyond --max-drop anyway, marked in the manifest")
    ex.add_argument("--calibration-samples", type=int, default=500,
                    help="training drawings used to calibrate integer variants (default 500)")
    ex.set_defaults(func=cmd_export)

    pr = sub.add_parser("predict", help="top-3 labels for each drawing of an ndjson file")
    pr.add_argument("bundle")
    pr.add_argument("file")
    pr.add_argument("--backend", choices=["tflite", "onnx"], default="tflite")
    pr.add_argument("--format", help="variant name from the manifest (overrides --backend)")
    pr.add_argument("--top-k", type=int, default=3)
    pr.add_argument("--limit", type=int, help="stop after N drawings")
    pr.add_argument("--raw", choices=["auto", "yes", "no"], default="auto",
                    help="raw touch strokes (screen pixels) are simplified as Google did first; "
                         "auto detects them (default)")
    pr.set_defaults(func=cmd_predict)

    ev = sub.add_parser("evaluate", help="accuracy of a bundle on the test split")
    ev.add_argument("bundle")
    ev.add_argument("--data", help="Quick, Draw! folder (sketch) or CSV file (forecast)")
    ev.add_argument("--backend", choices=["all", "tflite", "onnx"], default="all")
    ev.add_argument("--format", help="a single variant name from the manifest")
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.set_defaults(func=cmd_evaluate)

    fc = sub.add_parser("forecast", help="the next seven days after the last date of a CSV file")
    fc.add_argument("bundle")
    fc.add_argument("--data", required=True)
    fc.add_argument("--date-column", default=None)
    fc.add_argument("--value-column", default=None)
    fc.add_argument("--date-format")
    fc.add_argument("--backend", choices=["tflite", "onnx"], default="tflite")
    fc.add_argument("--format")
    fc.set_defaults(func=cmd_forecast)

    de = sub.add_parser("demo", help="the main job: train -> export -> evaluate -> predict")
    de.add_argument("--data", help="Quick, Draw! folder (default: built-in synthetic drawings)")
    de.add_argument("--out", default="runs/demo")
    de.add_argument("--epochs", type=int, default=None)
    de.add_argument("--max-per-category", type=int, default=None)
    de.add_argument("--max-train-seconds", type=float, default=None)
    de.add_argument("--synthetic-per-category", type=int, default=600)
    de.add_argument("--formats", default=None, help="variants to export (default: all)")
    de.set_defaults(func=cmd_demo)
    return p




def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        from inkcast.benchmarks.cli import add_bench_arguments
    except ImportError:
        add_bench_arguments = None
    if add_bench_arguments is not None:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        add_bench_arguments(sub.add_parser("bench", help="benchmark every variant of a bundle"))
    args = parser.parse_args(argv)
    if args.command == "bench":
        args.func = cmd_bench
    from inkcast.runtime.errors import InkcastError

    try:
        return int(args.func(args) or 0)
    except (InkcastError, FileNotFoundError, ValueError) as e:
        return _err(str(e))
