"""Export: the bundle's contract, agreement with Keras, the refusal gate, atomic writes."""

import json

import numpy as np
import pytest

from inkcast.data.rows import load_rows
from inkcast.export.errors import ExportValidationError
from inkcast.export.pipeline import ExportOptions, export_run
from inkcast.runtime.bundle import sha256_of
from inkcast.runtime.errors import BadInputError
from inkcast.runtime.sketch_preprocess import pad_left
from inkcast.tasks.sketch import SketchSpec, SketchTolerance, compare_classifier


def test_manifest_has_everything_a_device_needs(sketch_bundle):
    m = json.loads((sketch_bundle / "manifest.json").read_text())
    assert m["task"] == "sketch" and m["labels"] == ["apple", "candle", "eyeglasses", "fork", "star"]
    assert m["preprocessing"]["max_points"] == 128
    assert m["input"]["name"] == "strokes" and m["output"]["name"] == "probabilities"
    assert {"tflite-float32", "onnx-float32"} <= set(m["variants"])
    for name, v in m["variants"].items():
        assert sha256_of(sketch_bundle / v["file"]) == v["sha256"]
        assert v["size_bytes"] == (sketch_bundle / v["file"]).stat().st_size
        assert v["input"]["shape"][-1] == 3 and v["output"]["shape"][-1] == 5
    for name in ("tflite-float32", "onnx-float32"):
        v = m["variants"][name]
        assert v["input"]["dtype"] == "float32"
        assert v["accuracy"]["agreement_beyond_ties"] >= 0.999, name
        assert v["accuracy"]["agreement"] >= 0.99, name
        assert v["accuracy"]["max_probability_difference"] <= 5e-2, name
        assert v["accuracy"]["p99_probability_difference"] <= 1e-4, name
        assert abs(v["accuracy"]["top1"] - m["reference"]["top1"]) <= 0.001
    assert (sketch_bundle / "labels.txt").read_text().split() == m["labels"]


def test_tflite_lstm_is_fused_and_runs_at_any_length(sketch_bundle):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(sketch_bundle / "model.tflite"))
    ops = {d["op_name"] for d in it._get_ops_details()}
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops and "WHILE" not in ops
    assert list(it.get_input_details()[0]["shape_signature"]) == [1, -1, 3]


def test_exported_files_are_padding_invariant(sketch_run, sketch_bundle):
    """Left-padding with zero rows does not change any output (Keras, TFLite and ONNX)."""
    from inkcast.runtime.backends import open_model

    rows, _, _ = load_rows(sketch_run / "test_split.npz")
    model = SketchSpec().load_model(sketch_run)
    tfl = open_model(sketch_bundle / "model.tflite", "tflite")
    onx = open_model(sketch_bundle / "model.onnx", "onnx")
    for r in rows[:20]:
        exact, padded = pad_left([r]), pad_left([r], 128)
        k = model(exact).numpy()
        np.testing.assert_allclose(model(padded).numpy(), k, atol=1e-6)
        np.testing.assert_allclose(tfl.run(padded), tfl.run(exact), atol=1e-5)
        np.testing.assert_allclose(onx.run(padded), k, atol=1e-5)


def test_gate_refuses_and_keeps_the_old_bundle(sketch_run, sketch_bundle, tmp_path):
    import shutil

    target = tmp_path / "bundle"
    shutil.copytree(sketch_bundle, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    strict = ExportOptions(variants=("onnx-float32",), tolerance=SketchTolerance(min_agreement=1.01))
    with pytest.raises(ExportValidationError, match=r"export refused, no bundle written: onnx-float32: top-1 agreement"):
        export_run(sketch_run, target, strict)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]  # no half-written leftovers
    with pytest.raises(ExportValidationError):
        export_run(sketch_run, tmp_path / "new", strict)
    assert not (tmp_path / "new").exists()


def test_export_replaces_a_bundle_whole(sketch_run, sketch_bundle, tmp_path):
    import shutil

    target = tmp_path / "bundle"
    shutil.copytree(sketch_bundle, target)
    (target / "stale.bin").write_bytes(b"old")
    m = export_run(sketch_run, target, ExportOptions(variants=("onnx-float32",)))
    assert sorted(p.name for p in target.iterdir()) == ["accuracy.json", "accuracy.md", "conformance.json",
                                                        "labels.txt", "manifest.json", "manifest.sha256", "model.onnx"]
    assert set(m["variants"]) == {"onnx-float32"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_unknown_variant_and_missing_run(sketch_run, tmp_path):
    with pytest.raises(ValueError, match="unknown variants"):
        export_run(sketch_run, tmp_path / "b", ExportOptions(variants=("tflite-int3",)))
    with pytest.raises(BadInputError, match="run folder"):
        export_run(tmp_path, tmp_path / "b")


def test_agreement_beyond_ties_forgives_only_a_reference_near_tie():
    ref = np.array([[0.6, 0.3, 0.1], [0.37985, 0.37975, 0.2405], [0.5, 0.45, 0.05]])
    got = np.array([[0.6, 0.3, 0.1], [0.3713, 0.3862, 0.2425], [0.4, 0.55, 0.05]])
    m = compare_classifier(got, ref, np.array([0, 0, 0]), tie_margin=0.01)
    assert m["agreement"] == pytest.approx(1 / 3)
    # the second drawing is a near-tie in the reference (1e-4 apart); the third is a real flip
    assert m["agreement_beyond_ties"] == pytest.approx(2 / 3)
    assert m["max_probability_difference"] == pytest.approx(0.1)
