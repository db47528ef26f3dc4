"""``inkcast demo``: the main job on real drawings, train -> export -> evaluate -> a few answers.

With no arguments it trains on the sample shipped in the package (``inkcast.data`` ``sample/``:
1,500 of Google's Quick, Draw! drawings of five categories and 315 of 21 others as outliers,
CC BY 4.0), so it needs no download; ``DATA`` trains on a folder of category files instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .vocabulary import add_input, renamed

# The demo's step floor: half of `inkcast train`'s 12,000, so the tour takes about 9 minutes
# rather than 15 on a 2-core machine; measured at 92.5 % held-out top-1 on the sample (RESULTS.md).
DEMO_MIN_STEPS = 6000
SAMPLE_LICENCE = "Quick, Draw! data by Google, CC BY 4.0 (https://quickdraw.withgoogle.com/data)"


def register(sub) -> None:
    de = sub.add_parser("demo", help="the main job on real drawings: train -> export -> evaluate -> predict")
    add_input(de, "a folder of category files (default: the real sample shipped in the package)")
    de.add_argument("--outliers", action="append", metavar="DIR",
                    help="drawings of other categories, to learn 'I'm not sure' (default with the sample: its own)")
    de.add_argument("--out", default="runs/demo")
    de.add_argument("--epochs", type=int, help="passes over the training drawings (default: the step budget)")
    de.add_argument("--min-steps", type=int, default=DEMO_MIN_STEPS,
                    help=f"the step floor (default {DEMO_MIN_STEPS}: half of training's, so the tour takes minutes)")
    de.add_argument("--max-per-category", type=int)
    de.add_argument("--max-train-seconds", type=float)
    de.add_argument("--variants", help="variants to export (default: the task's default variants)")
    renamed(de, "--formats", "--variants", "variants")
    de.set_defaults(func=demo_command)


def sample_folder() -> Path:
    """The real sample's folder (``known/`` and ``other/``), installed with the package."""
    from importlib.resources import files

    return Path(str(files("inkcast.data") / "sample"))


def demo_command(a: argparse.Namespace) -> int:
    """Train -> export -> evaluate -> a few answers, then the commands to go on with."""
    from inkcast.data.ndjson import iter_drawings
    from inkcast.data.outliers import role_of
    from inkcast.data.quickdraw import QuickDrawOptions, split_of
    from inkcast.export.pipeline import ExportOptions, export_run
    from inkcast.runtime import SketchRecognizer
    from inkcast.tasks import spec_for
    from inkcast.tasks.evaluate import evaluate_bundle
    from inkcast.training.sketch_options import SketchTrainOptions
    from inkcast.training.train_sketch import train_sketch_from_folder

    from .export import variants_arg

    out = Path(a.out)
    outliers = a.outliers
    if a.data:
        data = Path(a.data)
        print(f"[1/4] training on the Quick, Draw! files in {data}", flush=True)
    else:
        data, outliers = sample_folder() / "known", outliers or [str(sample_folder() / "other")]
        print(f"[1/4] training on the real sample in the package: 300 drawings each of "
              f"{', '.join(sorted(p.stem for p in data.glob('*.ndjson')))}, and 315 drawings of 21 other "
              f"categories to learn 'I'm not sure' ({SAMPLE_LICENCE})", flush=True)
    o = SketchTrainOptions(data=QuickDrawOptions(max_per_category=a.max_per_category), outliers=tuple(outliers or ()),
                           epochs=a.epochs, min_steps=a.min_steps, max_train_seconds=a.max_train_seconds)
    if outliers:
        o.outlier_max_per_category = None  # a small pool: every drawing of it
    metrics = train_sketch_from_folder(data, out / "run", o)
    print("[2/4] exporting: every variant checked against the Keras model", flush=True)
    export_run(out / "run", out / "bundle", ExportOptions(variants=variants_arg(a.variants), allow_drop=True,
                                                          calibration_samples=300))
    print(f"[3/4] the bundle on the {metrics['count']} held-out drawings it never saw", flush=True)
    print(spec_for("sketch").evaluation_table(evaluate_bundle(out / "bundle")))
    print("[4/4] a few answers on held-out drawings (a label, or 'unknown')", flush=True)
    rec = SketchRecognizer(out / "bundle")
    shown = [(f"a {f.stem}", next(d for _, meta, d in iter_drawings(f) if split_of(str(meta.get("key_id"))) == "test"))
             for f in sorted(data.glob("*.ndjson"))[:5]]
    if outliers:  # a category the model never saw, of the outlier categories held out for the report
        other = sorted(p for folder in outliers for p in Path(folder).glob("*.ndjson") if role_of(p.stem) == "test")
        shown += [(f"a {p.stem}", next(iter_drawings(p))[2]) for p in other[:2]]
    for what, drawing in shown:
        r = rec.recognize(drawing)
        print(f"  {what:18s} -> {r.label or 'unknown':10s} (top-1 probability {r.score:.3f}, threshold {r.threshold:.3f})")
    print(f"\nthe bundle is {out / 'bundle'} (held-out top-1 {metrics['top1']:.1%}). Next:\n"
          f"  inkcast serve {out / 'bundle'}          # then open http://127.0.0.1:8000/ and draw\n"
          f"  inkcast predict {out / 'bundle'} FILE.ndjson  # answers for a file of drawings")
    return 0
