"""``inkcast evaluate BUNDLE --data ...``: quality of a bundle's variants on the test split."""

from __future__ import annotations

import argparse
import json


def register(sub) -> None:
    ev = sub.add_parser("evaluate", help="quality of a bundle's variants on the test split")
    ev.add_argument("bundle")
    ev.add_argument("--data", help="Quick, Draw! folder (sketch) or CSV file (forecast); "
                                   "default: the training run's stored test split")
    ev.add_argument("--backend", choices=["all", "tflite", "onnx"], default="all",
                    help="all: every variant (default); tflite/onnx: that backend's float32 variant")
    ev.add_argument("--format", help="a single variant name from the manifest")
    ev.add_argument("--unknown", metavar="DIR",
                    help="sketch: a folder of category files; its categories other than the bundle's labels (and "
                         "other than the outliers its training used) are unknown drawings: AUROC, FPR95 and the "
                         "rates at the bundle's threshold")
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.set_defaults(func=evaluate_command)


def chosen_formats(bundle, backend: str, format: str | None) -> list[str]:
    if format:
        return [format]
    if backend == "all":
        return list(bundle.variants)
    return [bundle.default_variant(backend)]


def evaluate_command(a: argparse.Namespace) -> int:
    from inkcast.runtime.bundle import load_bundle
    from inkcast.tasks import spec_for
    from inkcast.tasks.evaluate import evaluate_bundle

    bundle = load_bundle(a.bundle)
    results = evaluate_bundle(a.bundle, a.data, chosen_formats(bundle, a.backend, a.format), a.unknown)
    print(json.dumps(results, indent=2) if a.json else spec_for(bundle.task).evaluation_table(results))
    return 0
