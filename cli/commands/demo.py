"""``inkcast demo``: the main job, train -> export -> evaluate -> a few predictions."""

from __future__ import annotations

import argparse
from pathlib import Path

from .vocabulary import renamed


def register(sub) -> None:
    de = sub.add_parser("demo", help="the main job: train -> export -> evaluate -> predict")
    de.add_argument("--data", help="Quick, Draw! folder (default: built-in synthetic drawings)")
    de.add_argument("--out", default="runs/demo")
    de.add_argument("--epochs", type=int, default=None)
    de.add_argument("--max-per-category", type=int, default=None)
    de.add_argument("--max-train-seconds", type=float, default=None)
    de.add_argument("--synthetic-per-category", type=int, default=600)
    de.add_argument("--variants", help="variants to export (default: the task's default variants)")
    renamed(de, "--formats", "--variants", "variants")
    de.set_defaults(func=demo_command)


def demo_command(a: argparse.Namespace) -> int:
    """Train -> export -> evaluate -> a few predictions, on real data or the built-in generator."""
    from inkcast.data.ndjson import iter_drawings
    from inkcast.data.quickdraw import QuickDrawOptions
    from inkcast.export.pipeline import ExportOptions, export_run
    from inkcast.runtime import SketchRecognizer
    from inkcast.tasks import spec_for
    from inkcast.tasks.evaluate import evaluate_bundle
    from inkcast.training.sketch_options import SketchTrainOptions
    from inkcast.training.train_sketch import train_sketch_from_folder

    from .export import variants_arg

    out = Path(a.out)
    if a.data:
        data = Path(a.data)
        print(f"[1/4] training on real Quick, Draw! files in {data}")
    else:
        from inkcast.training.synthetic import CATEGORIES, write_synthetic_quickdraw

        data = write_synthetic_quickdraw(out / "synthetic-quickdraw", per_category=a.synthetic_per_category)
        print(f"[1/4] no --data given: using the built-in generator of Quick, Draw!-format drawings "
              f"({', '.join(CATEGORIES)}; {a.synthetic_per_category} each) in {data}")
    o = SketchTrainOptions(data=QuickDrawOptions(max_per_category=a.max_per_category))
    if a.epochs is not None:
        o.epochs = a.epochs
    if a.max_train_seconds is not None:
        o.max_train_seconds = a.max_train_seconds
    train_sketch_from_folder(data, out / "run", o)
    print("[2/4] exporting")
    export_run(out / "run", out / "bundle", ExportOptions(variants=variants_arg(a.variants), allow_drop=True,
                                                          calibration_samples=300))
    print("[3/4] evaluating the bundle on the test split")
    print(spec_for("sketch").evaluation_table(evaluate_bundle(out / "bundle", data)))
    print("[4/4] a few predictions")
    rec = SketchRecognizer(out / "bundle", backend="tflite")
    for f in sorted(Path(data).glob("*.ndjson")):
        _, _, drawing = next(iter_drawings(f))
        top = rec.predict(drawing)
        print(f"  {f.stem:12s} -> " + "  ".join(f"{label} {p:.3f}" for label, p in top))
    print(f"done: bundle in {out / 'bundle'}")
    return 0
