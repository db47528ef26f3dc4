"""``conformance.json``: every bundle's test vectors agree with the runtime that wrote them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inkcast.runtime import SketchRecognizer
from inkcast.runtime.bundle import load_bundle
from inkcast.runtime.sketch_input import model_rows


@pytest.fixture(scope="module")
def doc(sketch_bundle):
    return json.loads((sketch_bundle / "conformance.json").read_text())


def test_conformance_is_in_the_bundle_and_covered_by_its_digest(sketch_bundle, doc):
    assert "conformance.json" in load_bundle(sketch_bundle).manifest["files"]
    kinds = [v["kind"] for v in doc["vectors"]]
    assert kinds.count("simplified") == 24 and kinds.count("raw") == 12 and kinds.count("unknown") == 8
    manifest = json.loads((sketch_bundle / "manifest.json").read_text())
    assert doc["labels"] == manifest["labels"] and doc["preprocessing"] == manifest["preprocessing"]
    assert doc["threshold"] == manifest["unknown"]["threshold"]


def test_every_step_matches_the_runtime(sketch_bundle, doc):
    rec = SketchRecognizer(sketch_bundle)
    for v in doc["vectors"]:
        s = v["steps"]
        assert s["raw_detected"] == (v["kind"] == "raw"), v["id"]  # unknown vectors are simplified drawings
        np.testing.assert_array_equal(np.asarray(s["features"], np.float32), model_rows(v["input"], rec.preprocessing))
        assert len(s["features"]) <= doc["preprocessing"]["max_points"]
        if v["kind"] == "raw":
            r = s["raw"]
            # rounding the RDP-kept points (and dropping repeats) gives the simplified drawing
            for kept, simple in zip(r["rdp_kept"], s["simplified"]):
                pts = np.clip(np.round(np.asarray(kept)), 0, 255)
                pts = pts[np.concatenate(([True], np.any(pts[1:] != pts[:-1], axis=1)))]
                if len(pts) == 1:
                    pts = np.repeat(pts, 2, axis=0)
                assert pts[:, 0].tolist() == simple[0] and pts[:, 1].tolist() == simple[1]
            assert max(max(max(p) for p in stroke) for stroke in r["aligned"]) == pytest.approx(255.0, abs=1e-6)
        else:
            assert s["simplified"] == v["input"]


def test_expected_answers_are_each_variants_own(sketch_bundle, doc):
    manifest = json.loads((sketch_bundle / "manifest.json").read_text())
    for name in manifest["variants"]:
        rec = SketchRecognizer(sketch_bundle, variant=name)
        for v in doc["vectors"][::5]:
            got = rec.predict(v["input"], top_k=3)
            want = v["expected"][name]["top"]
            assert [g[0] for g in got] == [w[0] for w in want], (name, v["id"])
            np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], atol=1e-6)


def test_every_variant_says_unknown_as_conformance_json_says(sketch_bundle, doc):
    """Python's answer (a label, or None for "unknown") on every vector, unknown ones included,
    for every variant: what the JS port, the page and the server are held to as well."""
    manifest = json.loads((sketch_bundle / "manifest.json").read_text())
    rejected = 0
    for name in manifest["variants"]:
        rec = SketchRecognizer(sketch_bundle, variant=name)
        assert rec.threshold == doc["threshold"]
        for v in doc["vectors"]:
            r = rec.recognize(v["input"])
            assert (r.label, r.known) == (v["expected"][name]["label"], v["expected"][name]["known"]), (name, v["id"])
            rejected += v["kind"] == "unknown" and r.label is None
    assert rejected >= len(manifest["variants"])  # every variant turns some unknown drawing away
