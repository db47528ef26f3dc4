"""``conformance.json``: test vectors for anyone porting the recognizer's runtime to another language.

Each vector is one drawing with the expected result of every step of the contract
(``docs/CONTRACT.md``) and each variant's expected top-3. A port runs its own pipeline on
``input`` and compares step by step, so a difference is found at the step that makes it.

The drawings: ``SIMPLIFIED_VECTORS`` test-split drawings of the run (rebuilt from the stored model
rows into Google's simplified format, integers 0..255), and as many **raw** ones: the same
drawings as a phone would report them, scaled to screen pixels, moved, and sampled every 1.5
pixels with fractional coordinates (a deterministic transformation, so the file is reproducible;
it exercises raw-input detection, alignment, scaling, 1-px resampling, RDP and rounding).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from inkcast.runtime.simplify import (frame_of, looks_simplified, parse_drawing, rdp_mask, resample,
                                      simplify_strokes)
from inkcast.runtime.sketch_preprocess import SketchPreprocessing, points_to_features, resample_points

SIMPLIFIED_VECTORS = 24
RAW_VECTORS = 12  # their 1-px steps are long: fewer keep the file near 1 MB
STEP_DECIMALS = 6  # intermediate raw steps in JSON (doubles), rounded: ports compare them to 1e-6
RAW_SCALE, RAW_OFFSET, RAW_STEP = 3.5, (41.25, 87.5), 1.5


def as_screen_input(drawing: Sequence) -> list[list[list[float]]]:
    """A simplified drawing as raw screen input: ``x * 3.5 + 41.25``, a point every 1.5 px."""
    out = []
    for stroke in drawing:
        p = np.asarray(stroke[:2], dtype=np.float64).T * RAW_SCALE + np.asarray(RAW_OFFSET)
        pieces = [p[:1]]
        for a, b in zip(p[:-1], p[1:]):
            n = max(1, int(np.ceil(np.hypot(*(b - a)) / RAW_STEP)))
            pieces.append(a + (np.arange(1, n + 1) / n)[:, None] * (b - a))
        q = np.round(np.concatenate(pieces), 3)
        out.append([q[:, 0].tolist(), q[:, 1].tolist()])
    return out


def _pairs(a: np.ndarray, decimals: int | None = None) -> list[list[float]]:
    a = np.asarray(a, dtype=np.float64)
    return (a if decimals is None else np.round(a, decimals)).tolist()


def pipeline_steps(drawing: Any, prep: SketchPreprocessing) -> dict[str, Any]:
    """Every intermediate result of the contract for one drawing (``raw`` decided as ``predict`` does)."""
    strokes, layout = parse_drawing(drawing)
    raw = not looks_simplified(strokes)
    steps: dict[str, Any] = {"layout": layout, "raw_detected": raw}
    if raw:
        offset, scale = frame_of(strokes)
        aligned = [(s - offset) * scale for s in strokes]
        dense = [resample(s) for s in aligned]
        kept = [d[rdp_mask(d)] for d in dense]
        simplified = simplify_strokes(strokes)
        r = STEP_DECIMALS
        steps["raw"] = {"offset": _pairs(offset), "scale": float(scale),
                        "aligned": [_pairs(s, r) for s in aligned], "resampled_1px": [_pairs(d, r) for d in dense],
                        "rdp_kept": [_pairs(k, r) for k in kept]}
    else:
        simplified = strokes
    steps["simplified"] = [[s[:, 0].astype(int).tolist(), s[:, 1].astype(int).tolist()] for s in simplified]
    points = np.zeros((sum(len(s) for s in simplified), 3))
    at = 0
    for s in simplified:
        points[at : at + len(s), :2] = s
        at += len(s)
        points[at - 1, 2] = 1.0
    if prep.resample_spacing is not None:
        steps["arc_resampled"] = _pairs(resample_points(points, prep.resample_spacing), STEP_DECIMALS + 3)
    steps["features"] = _pairs(points_to_features(points, prep.max_points, prep.resample_spacing))
    return steps


def build_conformance(drawings: Sequence[Any], labels: Sequence[str], prep: SketchPreprocessing,
                      models: dict[str, Any], top_k: int = 3, unknown_drawings: Sequence[Any] = (),
                      threshold: float | None = None) -> dict[str, Any]:
    """The conformance document: vectors for ``drawings`` (simplified), their raw screen versions
    and ``unknown_drawings`` (of categories the model does not know), with each opened variant's
    expected top-k and its answer under ``threshold`` (label, or null for "unknown")."""
    from inkcast.runtime.ranking import recognition

    chosen = list(drawings)[:SIMPLIFIED_VECTORS]
    inputs = ([("simplified", d) for d in chosen] + [("raw", as_screen_input(d)) for d in chosen[::2][:RAW_VECTORS]]
              + [("unknown", d) for d in unknown_drawings])
    vectors = []
    for i, (kind, d) in enumerate(inputs):
        steps = pipeline_steps(d, prep)
        x = np.asarray(steps["features"], dtype=np.float32)[None]
        expected = {}
        for name, model in models.items():
            r = recognition(model.invoke_one(x), list(labels), top_k, threshold)
            expected[name] = {"top": [[lab, float(q)] for lab, q in r.top_k], "label": r.label, "known": r.known}
        vectors.append({"id": i, "kind": kind, "input": d, "steps": steps, "expected": expected})
    return {
        "about": "Test vectors of the sketch recognizer's input pipeline and answers (docs/CONTRACT.md). "
                 "Run your port on each vector's input; compare every step, then the top-3 of each variant "
                 "and its answer: the top-1 label, or null ('unknown') when its probability is below threshold. "
                 "Vectors of kind 'unknown' are drawings of categories the model does not know.",
        "preprocessing": prep.to_dict(),
        "labels": list(labels),
        "threshold": threshold,
        "tolerance": {"features": 1e-6, "probabilities_float32": 1e-5,
                      "note": "steps are exact (integers) or IEEE double arithmetic; features are float32"},
        "raw_input": {"scale": RAW_SCALE, "offset": list(RAW_OFFSET), "step_px": RAW_STEP},
        "vectors": vectors,
    }
