"""The TensorFlow-free runtime on real drawings: both backends, batches, and every bad input."""

import json

import numpy as np
import pytest

from inkcast.runtime import BadInputError, BundleError, SketchRecognizer

from tests.bundles import rewrite_manifest


@pytest.fixture(scope="module")
def recognizers(sketch_bundle):
    return {b: SketchRecognizer(sketch_bundle, backend=b) for b in ("tflite", "onnx")}


def test_both_backends_recognize_real_test_drawings(recognizers, test_drawings, sketch_bundle):
    manifest = json.loads((sketch_bundle / "manifest.json").read_text())
    truth = [d["word"] for d in test_drawings]
    for backend, rec in recognizers.items():
        assert rec.labels == manifest["labels"]
        top = [rec.predict(d["drawing"], top_k=3) for d in test_drawings]
        acc = np.mean([t[0][0] == w for t, w in zip(top, truth)])
        assert acc > 0.6, f"{backend}: top-1 {acc:.3f} on {len(truth)} real test drawings (chance is 0.2)"
        for t in top:
            assert len(t) == 3 and all(isinstance(p, float) for _, p in t)
            assert t[0][1] >= t[1][1] >= t[2][1]


def test_backends_agree_and_probabilities_sum_to_one(recognizers, test_drawings):
    """Same top-1 everywhere; probabilities equal to 1e-4 on nearly every drawing. The fused TFLite
    LSTM sums in another order than ONNX Runtime, and over a long drawing (up to 128 rows) that
    can reach ~1e-3 (see ``SketchExportOptions``), so the worst drawing is held to 1e-2."""
    diffs = []
    for d in test_drawings[:100]:
        p_t = recognizers["tflite"].probabilities(d["drawing"])
        p_o = recognizers["onnx"].probabilities(d["drawing"])
        assert abs(p_t.sum() - 1) < 1e-4 and abs(p_o.sum() - 1) < 1e-4
        assert p_t.argmax() == p_o.argmax()
        diffs.append(np.abs(p_t - p_o).max())
    assert np.percentile(diffs, 95) < 1e-4 and max(diffs) < 1e-2, sorted(diffs)[-5:]


def test_predict_batch_equals_predict(recognizers, test_drawings):
    drawings = [d["drawing"] for d in test_drawings[::7]]
    for rec in recognizers.values():
        batch = rec.predict_batch(drawings, top_k=2)
        for d, got in zip(drawings, batch):
            want = rec.predict(d, top_k=2)
            assert [label for label, _ in got] == [label for label, _ in want]
            np.testing.assert_allclose([p for _, p in got], [p for _, p in want], atol=1e-5)


def test_repeated_predictions_do_not_leak_lstm_state(recognizers, test_drawings):
    d = test_drawings[0]["drawing"]
    first = recognizers["tflite"].probabilities(d)
    for other in test_drawings[1:20]:
        recognizers["tflite"].probabilities(other["drawing"])
    np.testing.assert_array_equal(first, recognizers["tflite"].probabilities(d))


@pytest.mark.parametrize("drawing, message", [
    ([], "empty"),
    ([[[1, 2, 3], [1, 2]]], "x has 3 values but y has 2"),
    ([[[1, float("nan")], [1, 2]]], "NaN"),
    ([[[1, float("inf")], [1, 2]]], "infinite"),
    ([[["a", 2], [1, 2]]], "not a number"),
    ({"drawing": []}, "list of strokes"),
])
def test_bad_drawings_raise_clear_errors_on_both_backends(recognizers, drawing, message):
    for rec in recognizers.values():
        with pytest.raises(BadInputError, match=message):
            rec.predict(drawing)


def test_bad_drawing_in_a_batch_names_its_index(recognizers, test_drawings):
    with pytest.raises(BadInputError, match=r"drawing 1: stroke 0: x has 1 values but y has 2"):
        recognizers["onnx"].predict_batch([test_drawings[0]["drawing"], [[[1], [1, 2]]]])


def test_bad_top_k(recognizers, test_drawings):
    with pytest.raises(BadInputError, match="top_k"):
        recognizers["tflite"].predict(test_drawings[0]["drawing"], top_k=0)


def test_altered_model_file_is_refused(bundle_copy):
    path = bundle_copy / "model.tflite"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="checksum mismatch.*altered"):
        SketchRecognizer(bundle_copy, backend="tflite")
    SketchRecognizer(bundle_copy, backend="onnx")  # the untouched file still loads


def test_missing_model_file_or_manifest_is_refused(bundle_copy, tmp_path):
    (bundle_copy / "model.onnx").unlink()
    with pytest.raises(BundleError, match="model.onnx.*missing"):
        SketchRecognizer(bundle_copy, backend="onnx")
    (bundle_copy / "manifest.json").unlink()
    with pytest.raises(BundleError, match="no manifest.json"):
        SketchRecognizer(bundle_copy)
    with pytest.raises(BundleError, match="not a bundle folder"):
        SketchRecognizer(tmp_path / "nothing-here")


def test_corrupt_manifest_and_unknown_variant(bundle_copy):
    with pytest.raises(BundleError, match="no variant 'tflite-int4'"):
        SketchRecognizer(bundle_copy, variant="tflite-int4")
    (bundle_copy / "manifest.json").write_text("{not json")
    with pytest.raises(BundleError, match="manifest.json: checksum mismatch with manifest.sha256"):
        SketchRecognizer(bundle_copy)
    rewrite_manifest(bundle_copy, "{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        SketchRecognizer(bundle_copy)


def test_unknown_backend(sketch_bundle):
    with pytest.raises(ValueError, match="unknown backend"):
        SketchRecognizer(sketch_bundle, backend="coreml")


def test_bundle_preprocessing_comes_from_its_manifest(bundle_copy, test_drawings):
    """The recognizer resamples as the bundle's model was trained: with the manifest's spacing,
    and not at all for a bundle written before ``resample_spacing`` existed."""
    from inkcast.runtime.sketch_preprocess import SPACING, drawing_to_features

    d = test_drawings[0]["drawing"]
    m = json.loads((bundle_copy / "manifest.json").read_text())
    spacing = m["preprocessing"]["resample_spacing"]
    assert spacing == SPACING
    np.testing.assert_array_equal(SketchRecognizer(bundle_copy).features(d), drawing_to_features(d, spacing=spacing))
    del m["preprocessing"]["resample_spacing"]
    rewrite_manifest(bundle_copy, m)
    old = SketchRecognizer(bundle_copy)
    assert old.preprocessing.resample_spacing is None
    np.testing.assert_array_equal(old.features(d), drawing_to_features(d, spacing=None))


def test_every_method_that_takes_a_drawing_treats_raw_input_alike(sketch_bundle, test_drawings):
    """features, probabilities, predict and recognize: the same raw detection, so a raw drawing
    gives the same numbers whichever method is asked (before, features/probabilities took it as
    simplified strokes)."""
    from tests.rawlike import rawify

    rec = SketchRecognizer(sketch_bundle)
    raw = rawify(test_drawings[3]["drawing"], np.random.default_rng(2))
    p = rec.probabilities(raw)
    np.testing.assert_array_equal(rec.features(raw), rec.features(raw, raw=True))
    assert not np.array_equal(rec.features(raw), rec.features(raw, raw=False))
    assert [label for label, _ in rec.predict(raw)] == [label for label, _ in rec.rank(p)]
    assert rec.recognize(raw).score == pytest.approx(float(p.max()))
    np.testing.assert_allclose(rec.predict_batch([raw])[0][0][1], rec.predict(raw)[0][1], rtol=1e-5)


def test_the_public_api_is_listed_once_and_typed():
    import importlib.resources

    import inkcast.runtime as runtime

    for name in runtime.__all__:
        assert getattr(runtime, name) is not None, name
    assert "drawing_to_features" not in runtime.__all__
    with pytest.warns(DeprecationWarning, match="SketchRecognizer.features"):
        runtime.drawing_to_features  # noqa: B018 - the deprecated name still resolves
    assert importlib.resources.files("inkcast").joinpath("py.typed").is_file()
