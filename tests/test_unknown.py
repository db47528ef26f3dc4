""""I don't know": outliers split by category, open-set training, the threshold through the bundle,
and the answer of every Python consumer. The suite's fixture model is trained with outlier exposure
on the shared outlier categories (conftest.sketch_run); the JS port, the page and the server are
checked in their own test files against the same conformance vectors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from inkcast.data.outliers import ROLES, load_outliers, role_of
from inkcast.runtime import Recognition, SketchRecognizer
from inkcast.runtime.errors import BadInputError, OptionsError
from inkcast.tasks import spec_for
from inkcast.tasks.sketch import OUTPUT_TEMPERATURE
from inkcast.tasks.unknown import auroc, open_set_metrics, threshold_keeping

from tests.bundles import rewrite_manifest


def test_auroc_is_the_share_of_correctly_ordered_pairs():
    rng = np.random.default_rng(0)
    k, u = rng.normal(1, 1, 300).round(1), rng.normal(0, 1, 200).round(1)  # rounded: many ties
    pairs = (k[:, None] > u[None, :]).mean() + 0.5 * (k[:, None] == u[None, :]).mean()
    assert auroc(k, u) == pytest.approx(pairs, abs=1e-12)
    assert auroc([2, 3], [0, 1]) == 1.0 and auroc([0, 1], [2, 3]) == 0.0


def test_threshold_keeps_the_asked_share_of_known_drawings():
    s = np.linspace(0, 1, 101)
    for kept in (0.5, 0.9, 0.95, 1.0):
        t = threshold_keeping(s, kept)
        assert (s >= t).mean() >= kept and (s > t).mean() < kept
    with pytest.raises(ValueError, match="in \\(0, 1\\]"):
        threshold_keeping(s, 1.5)


def test_open_set_metrics_at_a_threshold():
    m = open_set_metrics([0.9, 0.8, 0.3, 0.95], [True, False, True, True], np.array([[0.6, 0.4], [0.85, 0.15]]),
                         ["cat", "dog"], 0.7, ["a", "b"])
    assert m["known_kept"] == 0.75 and m["known_top1_at_threshold"] == 0.5 and m["unknown_accepted"] == 0.5
    assert m["unknown_accepted_most"] == [{"category": "dog", "accepted": 1, "drawings": 1}]
    assert m["unknown_accepted_as"] == {"a": 1} and m["auroc"] == pytest.approx(5 / 8)


def test_outlier_roles_are_a_stable_split_by_category(outliers_dir):
    cats = sorted(p.stem for p in outliers_dir.glob("*.ndjson"))
    roles = {c: role_of(c) for c in cats}
    assert set(roles.values()) == set(ROLES) and roles == {c: role_of(c) for c in reversed(cats)}
    counts = {r: sum(v == r for v in roles.values()) for r in ROLES}
    assert counts["train"] > counts["validation"] > 10 and counts["test"] > 10  # 60/20/20 of 168
    o = load_outliers([outliers_dir], ["airplane", "ambulance"], max_per_category=3)
    seen = {r: set(o[r].categories) for r in ROLES}
    assert not (seen["train"] & seen["validation"]) and not (seen["train"] & seen["test"])
    assert "airplane" not in set().union(*seen.values())
    assert all(roles[c] == r for r in ROLES for c in seen[r])
    assert max(np.unique(o["test"].categories, return_counts=True)[1]) == 3


def test_outlier_subset_keeps_every_other_role_whole(outliers_dir, tmp_path):
    """The learning-curve folders of docs/RESULTS.md: fewer train-role categories, or fewer
    drawings of each, and the validation and test roles untouched."""
    from experiments.outlier_subset import make_subset

    names = make_subset(outliers_dir, 3, tmp_path / "o3", drawings=2)
    kept = {p.stem: p for p in (tmp_path / "o3").glob("*.ndjson")}
    assert len(names) == 3 and all(role_of(n) == "train" for n in names)
    assert sorted(n for n in kept if role_of(n) == "train") == sorted(names)
    assert all(len(kept[n].read_text().splitlines()) == 2 for n in names)
    others = [p.stem for p in outliers_dir.glob("*.ndjson") if role_of(p.stem) != "train"]
    assert sorted(n for n in kept if role_of(n) != "train") == sorted(others)
    assert all(kept[n].is_symlink() for n in others)


def test_load_outliers_refuses_a_folder_with_nothing_else(quickdraw_dir, tmp_path):
    with pytest.raises(BadInputError, match="no categories other than the labels"):
        load_outliers([quickdraw_dir], ["apple", "candle", "eyeglasses", "fork", "star"])
    shutil.copy(quickdraw_dir / "apple.ndjson", tmp_path / "apple.ndjson")
    with pytest.raises(BadInputError, match="split by category"):
        load_outliers([tmp_path], ["star"])


def test_the_run_reports_unknown_on_categories_it_never_saw(sketch_run):
    m = json.loads((sketch_run / "metrics.json").read_text())
    info = json.loads((sketch_run / "options.json").read_text())
    u = m["unknown"]
    assert u["method"] == "outlier-exposure" and u["known_kept_target"] == 0.95
    roles = info["outlier_categories"]
    assert not set(roles["train"]) & set(roles["test"]) and not set(roles["validation"]) & set(roles["test"])
    assert all(role_of(c) == r for r, cs in roles.items() for c in cs)
    t = u["test"]
    assert t["unknown_categories"] == len(roles["test"]) and t["known_drawings"] == m["count"]
    assert 0.9 <= u["validation"]["known_kept"] <= 1.0
    report = (sketch_run / "report.md").read_text()
    assert "## Unknown drawings" in report and f"| test ({t['unknown_categories']}) | {t['unknown_drawings']} |" in report
    # outlier exposure on the small CI model already separates most unknown drawings
    assert t["auroc"] > 0.85 and t["unknown_accepted"] < 0.65, t  # measured: 0.897 and 0.503


def test_the_threshold_round_trips_through_the_bundle(sketch_bundle, sketch_run):
    manifest = json.loads((sketch_bundle / "manifest.json").read_text())
    u = manifest["unknown"]
    # chosen on the exported (tempered) probabilities of the run's known validation drawings
    assert u["temperature"] == manifest["output"]["temperature"] == OUTPUT_TEMPERATURE
    validation = json.loads((sketch_run / "metrics.json").read_text())["drawings"]["validation"]
    assert u["known_kept_target"] == 0.95 and abs(u["validation_known_kept"] - 0.95) <= 1 / validation + 1e-9
    assert u["rule"].startswith("known when the top-1 probability >= threshold")
    for name, v in manifest["variants"].items():
        assert SketchRecognizer(sketch_bundle, variant=name).threshold == u["threshold"]
        assert v["accuracy"]["unknown"]["threshold"] == u["threshold"]
    md = (sketch_bundle / "accuracy.md").read_text()
    assert "## Unknown drawings" in md and f"Threshold {u['threshold']:.4f}" in md
    from inkcast.export.tflite_metadata import read_metadata

    desc = read_metadata(sketch_bundle / manifest["variants"]["tflite-float32"]["file"])["metadata"]["description"]
    assert f"below {u['threshold']:.6f}" in desc  # what a mobile developer's metadata reader shows


def test_export_tempers_the_probabilities_and_keeps_every_label(sketch_run):
    """softmax(logits / T) from the last layer's weights: log p differs from the logits by a
    constant a drawing, so the tempered probabilities are softmax(log p / T) of the untempered."""
    spec = spec_for("sketch")
    plain, warm = spec.load_reference(sketch_run, 0, 1.0), spec.load_reference(sketch_run, 0, OUTPUT_TEMPERATURE)
    z = np.log(plain.outputs.astype(np.float64)) / OUTPUT_TEMPERATURE
    expected = np.exp(z - z.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    assert np.allclose(warm.outputs, expected, atol=1e-5)
    assert (warm.outputs.argmax(1) == plain.outputs.argmax(1)).all() and warm.metrics["top1"] == plain.metrics["top1"]
    assert warm.outputs.max(1).mean() < plain.outputs.max(1).mean()  # softer, as the int8 output needs
    with pytest.raises(OptionsError, match="must be positive"):
        spec.load_reference(sketch_run, 0, 0.0)


def test_recognize_and_predict_agree(sketch_bundle, test_drawings, unknown_drawings):
    rec = SketchRecognizer(sketch_bundle)
    drawings = [r["drawing"] for r in test_drawings[::30]] + unknown_drawings[:10]
    answers = rec.recognize_batch(drawings)
    for d, r in zip(drawings, answers):
        top = rec.predict(d)
        one = rec.recognize(d)
        assert isinstance(one, Recognition) and one.top_k == top
        assert one.label == r.label and one.score == pytest.approx(r.score, abs=1e-6)
        assert one.known == (one.score >= rec.threshold) and one.label == (top[0][0] if one.known else None)
    assert any(r.label is None for r in answers[-10:])  # drawings of other categories are turned away
    assert sum(r.known for r in answers[:-10]) >= 0.8 * len(answers[:-10])


def test_the_stream_ends_with_recognize_of_the_whole_drawing(sketch_bundle, unknown_drawings):
    rec = SketchRecognizer(sketch_bundle)
    for d in unknown_drawings[:4]:
        s = rec.stream()
        assert s.recognize() is None
        for stroke in d:
            s.add_stroke(stroke)
        assert s.recognize() == rec.recognize(d)


def test_a_bundle_from_before_unknown_answers_as_before(bundle_copy, unknown_drawings):
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    del manifest["unknown"]
    rewrite_manifest(bundle_copy, manifest)
    rec = SketchRecognizer(bundle_copy)
    assert rec.threshold is None
    for d in unknown_drawings[:5]:
        r = rec.recognize(d)
        assert r.known and r.label == rec.predict(d)[0][0] and r.threshold is None


def test_export_takes_a_given_threshold(sketch_run, tmp_path):
    from inkcast.export.pipeline import ExportOptions, export_run

    m = export_run(sketch_run, tmp_path / "b", ExportOptions(variants=("onnx-float32",), unknown_threshold=0.5,
                                                             tflite_metadata=False), log=lambda s: None)
    assert m["unknown"]["threshold"] == 0.5 and m["unknown"]["chosen_by"] == "given"
    assert SketchRecognizer(tmp_path / "b", backend="onnx").threshold == 0.5
    with pytest.raises(BadInputError, match="0..1"):
        export_run(sketch_run, tmp_path / "c", ExportOptions(variants=("onnx-float32",), unknown_threshold=2.0,
                                                             tflite_metadata=False), log=lambda s: None)
    with pytest.raises(BadInputError, match="known-kept"):
        export_run(sketch_run, tmp_path / "c", ExportOptions(variants=("onnx-float32",), known_kept=95,
                                                             tflite_metadata=False), log=lambda s: None)


def test_evaluate_unknown_leaves_out_the_categories_training_used(sketch_bundle, quickdraw_dir, outliers_dir, capsys):
    from inkcast.main import main

    assert main(["evaluate", str(sketch_bundle), str(quickdraw_dir), "--unknown", str(outliers_dir),
                 "--backend", "onnx", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)["onnx-float32"]["unknown"]
    manifest = json.loads((sketch_bundle / "manifest.json").read_text())
    test_cats = manifest["unknown"]["outlier_categories"]["test"]
    assert res["unknown_categories"] == len(test_cats) and res["threshold"] == manifest["unknown"]["threshold"]
    assert "left out" in res["notes"][0]
    assert res["known_drawings"] > 1900 and 0 < res["auroc"] <= 1


def test_training_without_outliers_gets_a_max_softmax_threshold_and_background_runs_are_not_exported(
        quickdraw_dir, outliers_dir, tmp_path):
    """Its own (tiny) training: the background-class method is another head, which no fixture has."""
    from inkcast.data.quickdraw import QuickDrawOptions
    from inkcast.export.pipeline import ExportOptions, export_run
    from inkcast.training.sketch_options import SketchTrainOptions
    from inkcast.training.train_sketch import train_sketch_from_folder

    small = dict(data=QuickDrawOptions(max_per_category=60), epochs=1, calibration_samples=50)
    m = train_sketch_from_folder(quickdraw_dir, tmp_path / "plain", SketchTrainOptions(**small))
    assert m["unknown"]["method"] == "max-softmax" and "test" not in m["unknown"]
    b = export_run(tmp_path / "plain", tmp_path / "b", ExportOptions(variants=("onnx-float32",), tflite_metadata=False),
                   log=lambda s: None)
    assert b["unknown"]["method"] == "max-softmax" and "test" not in b["unknown"]
    m = train_sketch_from_folder(quickdraw_dir, tmp_path / "bg", SketchTrainOptions(
        **small, outliers=(str(outliers_dir),), unknown_method="background-class", outlier_max_per_category=5))
    assert m["unknown"]["method"] == "background-class" and "test" in m["unknown"]
    with pytest.raises(BadInputError, match="export takes outlier-exposure runs"):
        export_run(tmp_path / "bg", tmp_path / "c", ExportOptions(variants=("onnx-float32",), tflite_metadata=False))


def test_outlier_exposure_loss_is_cross_entropy_to_uniform_on_outliers():
    from inkcast.training.open_set import outlier_exposure_loss

    p = np.array([[0.7, 0.2, 0.1], [0.25, 0.5, 0.25]], np.float32)
    loss = outlier_exposure_loss(0.5)(np.array([0, -1]), p).numpy()
    assert loss[0] == pytest.approx(-np.log(0.7), rel=1e-5)
    assert loss[1] == pytest.approx(0.5 * -np.mean(np.log(p[1])), rel=1e-5)
