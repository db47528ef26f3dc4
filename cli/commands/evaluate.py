"""``inkcast evaluate BUNDLE [DATA]``: quality of a bundle's variants on the test split."""

from __future__ import annotations

import argparse

from .vocabulary import add_input, add_signed_by, add_variant
import json


def register(sub) -> None:
    ev = sub.add_parser("evaluate", help="quality of a bundle's variants on the test split")
    ev.add_argument("bundle")
    add_input(ev, "Quick, Draw! folder (sketch) or CSV file (forecast); default: the training run's stored "
                  "test split")
    add_variant(ev, every_by_default=True)
    add_signed_by(ev)
    ev.add_argument("--unknown", metavar="DIR",
                    help="sketch: a folder of category files; its categories other than the bundle's labels (and "
                         "other than the outliers its training used) are unknown drawings: AUROC, FPR95 and the "
                         "rates at the bundle's threshold")
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.set_defaults(func=evaluate_command)


def chosen_variants(bundle, backend: str | None, variant: str | None) -> list[str]:
    """The vocabulary's rule for a command that compares: every variant unless one is named."""
    if variant:
        return [variant]
    if backend in (None, "all"):
        return list(bundle.variants)
    return [bundle.default_variant(backend)]


def evaluate_command(a: argparse.Namespace) -> int:
    from inkcast.runtime.bundle import load_bundle
    from inkcast.tasks import spec_for
    from inkcast.tasks.evaluate import evaluate_bundle

    if a.signed_by:
        from inkcast.signing import verify_bundle

        verify_bundle(a.bundle, a.signed_by)
    bundle = load_bundle(a.bundle)
    results = evaluate_bundle(a.bundle, a.data, chosen_variants(bundle, a.backend, a.variant), a.unknown)
    print(json.dumps(results, indent=2) if a.json else spec_for(bundle.task).evaluation_table(results))
    return 0
