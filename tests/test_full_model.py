"""Acceptance figures that need the fully trained default sketch model, not the small CI one.

The session fixtures train a small model in ~2 minutes; some figures of the issues are about the
default model (`inkcast train sketch --data ../shared/data/quickdraw --out RUN` with default
options, about 10 minutes, then `inkcast export RUN --out BUNDLE`). These tests run on such a
bundle when ``INKCAST_FULL_BUNDLE`` names one (its ``tflite-float32`` variant is used), e.g.
``INKCAST_FULL_BUNDLE=bundles/sketch python -m pytest -q tests/test_full_model.py`` (~2 min);
without the variable they are skipped, so CI (which trains only the small model) skips them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

FULL = os.environ.get("INKCAST_FULL_BUNDLE")
pytestmark = pytest.mark.skipif(not FULL, reason="INKCAST_FULL_BUNDLE is not set (see this module's doc)")


@pytest.fixture(scope="module")
def full_bundle() -> Path:
    b = Path(FULL)
    manifest = json.loads((b / "manifest.json").read_text())
    opts = manifest["training"]["options"]
    from inkcast.training.sketch_options import SketchTrainOptions

    defaults = json.loads(json.dumps(SketchTrainOptions().to_dict()))  # tuples as the manifest has them (lists)
    # the default recipe; only the time budget (a slower machine trains fewer epochs) and the
    # outlier folders (data, not recipe: the shared data's command names one) may differ
    differing = {k for k in defaults if k not in ("max_train_seconds", "outliers") and opts.get(k) != defaults[k]}
    assert not differing, f"{b} was not trained with the default options: {sorted(differing)} differ"
    return b


@pytest.fixture(scope="module")
def all_test_drawings(quickdraw_dir) -> list[dict]:
    from inkcast.data.quickdraw import split_records

    return split_records(quickdraw_dir, "test")


@pytest.fixture(scope="module")
def raw_report(full_bundle, all_test_drawings) -> dict:
    """Every test drawing made into raw phone input (a ~1080x2000 screen, a point every ~3 px,
    +-2 px jitter, timestamps) and recovered by the runtime's simplification, three seeds."""
    from experiments.raw_agreement import raw_agreement
    from inkcast.runtime import SketchRecognizer

    rec = SketchRecognizer(full_bundle, variant="tflite-float32")
    report = raw_agreement(rec, all_test_drawings, seeds=(0, 1, 2), jitter=2.0)
    print(json.dumps({k: v for k, v in report.items() if k not in ("differing_drawings", "costs")}))
    return report


def test_issue_6_bar_99_percent_agreement_on_recovered_raw_input(raw_report, all_test_drawings):
    """Issue #6's bar on every test drawing: measured 99.69 % mean over 5 seeds (min 99.65 %)."""
    assert raw_report["drawings"] == len(all_test_drawings) >= 1900
    assert raw_report["final_top1_accuracy_on_originals"] >= 0.95, raw_report
    assert raw_report["agreement_mean"] >= 0.99, raw_report
    assert raw_report["agreement_min"] >= 0.99, raw_report
    # The pipeline still earns its place: raw input fed to the model as it is agrees less often.
    assert raw_report["unsimplified_agreement_mean"] < raw_report["agreement_mean"], raw_report


def test_issue_24_every_variant_says_unknown_as_keras_does(full_bundle):
    """Issue #24: one threshold for every variant; each variant's AUROC within 0.01 of Keras and its
    FPR95 within 2 points, on outlier categories used neither in training nor for the threshold
    (export refuses a variant otherwise; this reads what it recorded)."""
    manifest = json.loads((full_bundle / "manifest.json").read_text())
    u = manifest["unknown"]
    assert u["method"] == "outlier-exposure" and "test" in u, "train with --outliers to get the figures"
    for name, v in manifest["variants"].items():
        k = v["accuracy"]["unknown"]
        assert k["threshold"] == u["threshold"], name
        assert abs(k["auroc"] - u["test"]["auroc"]) <= 0.01 and abs(k["fpr95"] - u["test"]["fpr95"]) <= 0.02, (name, k)
