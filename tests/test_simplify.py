"""Raw strokes -> Google's simplified format (inkcast.runtime.simplify), on shapes and real drawings.

Most tests need no model. The last ones check, on real test-split drawings turned into raw phone
input, that the recognizer answers the same for the recovered drawings as for the originals.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from experiments.raw_agreement import raw_agreement
from tests.rawlike import rawify
from inkcast.runtime import BadInputError, SketchRecognizer
from inkcast.runtime.simplify import (
    EPSILON,
    MAX_INK,
    frame_of,
    looks_simplified,
    parse_strokes,
    prepare_drawing,
    rdp_mask,
    resample,
    simplify,
    simplify_stroke,
    simplify_strokes,
)


def _textbook_rdp(points: np.ndarray, eps: float) -> np.ndarray:
    """Plain recursive RDP (perpendicular distance to the line), written for clarity: the reference."""
    keep = np.zeros(len(points), dtype=bool)

    def dist(p, a, b):
        ab, ap = b - a, p - a
        n = float(np.hypot(*ab))
        return float(np.hypot(*ap)) if n == 0 else abs(ap[0] * ab[1] - ap[1] * ab[0]) / n

    def go(i, j):
        keep[i] = keep[j] = True
        best, k = -1.0, -1
        for m in range(i + 1, j):
            d = dist(points[m], points[i], points[j])
            if d > best:
                best, k = d, m
        if k >= 0 and best > eps:
            go(i, k)
            go(k, j)

    go(0, len(points) - 1)
    return keep


def _polyline_distances(p: np.ndarray, drawing) -> np.ndarray:
    """Distance of each point of p to the nearest segment of a drawing's strokes."""
    segs = []
    for s in drawing:
        q = np.asarray(s[:2], dtype=np.float64).T
        q = np.repeat(q, 2, axis=0) if len(q) == 1 else q
        segs.append(np.stack([q[:-1], q[1:]], axis=1))
    s = np.concatenate(segs)
    a, b, x = s[None, :, 0], s[None, :, 1], p[:, None]
    ab, ax = b - a, x - a
    den, num = (ab * ab).sum(-1), (ax * ab).sum(-1)
    t = np.clip(np.divide(num, den, out=np.zeros_like(num), where=den > 0), 0, 1)
    return np.hypot(*(ax - t[..., None] * ab).transpose(2, 0, 1)).min(axis=1)


def _dense(drawing) -> np.ndarray:
    return np.concatenate([resample(np.asarray(s[:2], dtype=np.float64).T, 0.5) for s in drawing])


def _in_frame(drawing):
    """A drawing aligned and scaled exactly as step 1-2 would (floats, no rounding)."""
    strokes = [np.asarray(s[:2], dtype=np.float64).T for s in drawing]
    offset, scale = frame_of(strokes)
    return [((s - offset) * scale).T for s in strokes]


# ---------------------------------------------------------------- the steps


def test_rdp_equals_the_textbook_recursion_on_random_polylines():
    rng = np.random.default_rng(0)
    for trial in range(25):
        n = int(rng.integers(2, 160))
        p = np.cumsum(rng.normal(size=(n, 2)) * rng.uniform(0.5, 6), axis=0)
        if trial % 5 == 0:
            p[-1] = p[0]  # a closed stroke: the span's ends coincide
        eps = float(rng.choice([0.5, 2.0, 5.0]))
        np.testing.assert_array_equal(rdp_mask(p, eps), _textbook_rdp(p, eps), err_msg=f"trial {trial}")


def test_rdp_handles_long_strokes_without_recursion_and_bounds_the_error():
    rng = np.random.default_rng(1)
    p = np.cumsum(rng.normal(size=(30_000, 2)) * 3, axis=0)  # deeper than Python's recursion limit
    keep = rdp_mask(p, EPSILON)
    assert keep[0] and keep[-1] and 100 < keep.sum() < len(p)
    # Every dropped point lies within epsilon of the line through the kept points around it.
    idx = np.arange(len(p))
    left = np.maximum.accumulate(np.where(keep, idx, 0))
    right = np.minimum.accumulate(np.where(keep, idx, len(p) - 1)[::-1])[::-1]
    a, b = p[left], p[right]
    ab, ap = b - a, p - a
    cross = np.abs(ap[:, 0] * ab[:, 1] - ap[:, 1] * ab[:, 0])
    err = np.divide(cross, np.hypot(ab[:, 0], ab[:, 1]), out=np.zeros(len(p)), where=~keep)
    assert err[~keep].max() <= EPSILON


def test_rdp_keeps_stroke_ends_given_in_one_call():
    a = np.stack([np.arange(50.0), np.zeros(50)], axis=1)
    b = a + [0.0, 1.0]  # a second straight stroke right after it
    keep = rdp_mask(np.concatenate([a, b]), EPSILON, ends=[49, 50])
    assert np.flatnonzero(keep).tolist() == [0, 49, 50, 99]


def test_resample_is_one_pixel_along_the_stroke():
    p = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 0.0], [10.0, 7.5]])
    r = resample(p)
    steps = np.hypot(*np.diff(r, axis=0).T)
    np.testing.assert_allclose(steps[:-1], 1.0)
    assert 0 < steps[-1] <= 1.0
    np.testing.assert_array_equal(r[0], p[0])
    np.testing.assert_array_equal(r[-1], p[-1])
    assert len(r) == 19  # 17.5 px long: 0, 1, ..., 17 and the end
    assert _polyline_distances(r, [p.T]).max() < 1e-12  # every sample lies on the stroke
    np.testing.assert_array_equal(resample(np.array([[3.0, 4.0], [3.0, 4.0]])), [[3.0, 4.0]])


def test_per_stroke_and_whole_drawing_simplification_agree(quickdraw_dir):
    rng = np.random.default_rng(2)
    with open(quickdraw_dir / "eyeglasses.ndjson") as f:
        drawings = [json.loads(next(f))["drawing"] for _ in range(40)]
    for d in drawings:
        strokes = parse_strokes(rawify(d, rng))
        offset, scale = frame_of(strokes)
        one_by_one = [simplify_stroke(s, offset, scale) for s in strokes]
        for a, b in zip(simplify_strokes(strokes), one_by_one):
            np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- the pipeline on known shapes


def test_a_dense_line_becomes_its_two_ends_in_the_0_255_frame():
    t = np.linspace(0, 1, 500)
    line = [[(1000 * x + 37.0, 400 * x + 12.0) for x in t]]
    assert simplify(line) == [[[0, 255], [0, 102]]]  # aspect ratio kept: 400/1000*255 = 102


def test_a_square_becomes_its_corners_and_a_circle_stays_within_epsilon():
    side = [(float(x), 0.0) for x in range(0, 800, 2)] + [(800.0, float(y)) for y in range(0, 800, 2)]
    side += [(float(x), 800.0) for x in range(800, 0, -2)] + [(0.0, float(y)) for y in range(800, -1, -2)]
    assert simplify([side], raw=True) == [[[0, 255, 255, 0, 0], [0, 0, 255, 255, 0]]]

    th = np.linspace(0, 2 * np.pi, 3000)
    circle = [list(zip(500 + 300 * np.cos(th), 900 + 300 * np.sin(th)))]
    (xs, ys), = simplify(circle)
    pts = np.array([xs, ys], dtype=float).T
    radius = np.hypot(pts[:, 0] - 127.5, pts[:, 1] - 127.5)
    assert np.abs(radius - 127.5).max() <= 1.0  # every kept point is on the circle (rounding only)
    true = np.stack([127.5 + 127.5 * np.cos(th), 127.5 + 127.5 * np.sin(th)], axis=1)
    assert _polyline_distances(true, [[xs, ys]]).max() <= EPSILON + 1.0  # the chords stay close
    assert 20 <= len(xs) <= 60


def test_scale_and_position_do_not_matter():
    rng = np.random.default_rng(3)
    base = [np.cumsum(rng.integers(-9, 10, size=(300, 2)), axis=0).astype(float) for _ in range(3)]
    first = simplify([s.tolist() for s in base], raw=True)
    for k, shift in ((2.0, (1000, 3)), (8.0, (-500, 250)), (0.25, (7, 7))):
        moved = [(s * k + shift).tolist() for s in base]
        assert simplify(moved, raw=True) == first


def test_dots_become_two_equal_points_as_in_googles_files():
    out = simplify([[(0, 0), (400, 300)], [(100, 100)], [(240, 48), (240, 48), (240, 48)]], layout="points")
    assert out[1] == [[64, 64], [64, 64]] and out[2] == [[153, 153], [31, 31]]


def test_layouts_timestamps_and_arrays_give_the_same_result():
    rng = np.random.default_rng(4)
    xy = np.cumsum(rng.normal(size=(200, 2)) * 4, axis=0) + 600
    t = np.arange(200) * 8.0
    as_points = [[(x, y) for x, y in xy]]
    with_time = [[(x, y, tt) for (x, y), tt in zip(xy, t)]]
    as_strokes = [[xy[:, 0].tolist(), xy[:, 1].tolist()]]
    strokes_time = [[xy[:, 0].tolist(), xy[:, 1].tolist(), t.tolist()]]
    arrays = [xy]
    want = simplify(as_points)
    for d in (with_time, as_strokes, strokes_time, arrays):
        assert simplify(d) == want


def test_ambiguous_tiny_strokes_default_to_quickdraw_layout_unless_told():
    d = [[(0, 0), (100, 50)]]  # 2x2: [[x0, x1], [y0, y1]] or [(x0, y0), (x1, y1)]
    assert simplify(d, raw=False) == [[[0, 0], [100, 50]]]
    assert simplify(d, raw=False, layout="points") == [[[0, 100], [0, 50]]]
    # One unambiguous stroke decides for the whole drawing.
    assert simplify(d + [[(1, 2), (3, 4), (5, 6), (7, 8)]], raw=False)[0] == [[0, 100], [0, 50]]


# ---------------------------------------------------------------- simplified input passes through


def test_real_simplified_drawings_are_detected_and_pass_through_unchanged(quickdraw_dir):
    for f in sorted(quickdraw_dir.glob("*.ndjson")):
        with open(f) as fh:
            drawings = [json.loads(line)["drawing"] for line, _ in zip(fh, range(400))]
        for d in drawings:
            assert looks_simplified(parse_strokes(d)), f"{f.name}: a simplified drawing was taken for raw"
            assert prepare_drawing(d) is d  # the very object: predictions stay exactly as before
            assert simplify(d) == d


def test_raw_input_is_detected_as_raw(quickdraw_dir):
    rng = np.random.default_rng(5)
    with open(quickdraw_dir / "apple.ndjson") as f:
        drawings = [json.loads(next(f))["drawing"] for _ in range(50)]
    for d in drawings:
        assert not looks_simplified(parse_strokes(rawify(d, rng)))  # screen pixels
        # Dense integer input inside 0..255 (a small canvas sampled every ~1-2 px) is raw too.
        dense = [np.round(resample(np.asarray(s[:2], float).T, 1.5)) for s in d]
        assert not looks_simplified(dense)
        # Fractional coordinates inside 0..255 are raw.
        assert not looks_simplified([np.asarray(s[:2], float).T * 0.5 + 0.25 for s in d])


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("drawing, message", [
    ([[(5, 5)]], r"single point \(5, 5\)"),
    ([[(1, 2)] * 4, [(1, 2)] * 5], r"all 9 points of the drawing are at \(1, 2\)"),
    ([[(0, 0), (1, 1), (2, 2), (3, 3)], [(0, 1), (np.nan, 2), (3, 3), (4, 4)]], r"stroke 1, point 1: x is nan"),
    ([[(0, 0), (1, 1), (2, np.inf), (3, 3)]], r"stroke 0, point 2: y is inf"),
    ([[(0, 0), (1, 1), (2, 2), (3, 3)], [(0, 0), (1, 1), (2e9, 2), (3, 3)]], r"stroke 1, point 2: x = 2e\+09 is out of range"),
    ([], "empty"),
    ([[]], "stroke 0 has no points"),
    ([[(0, 0), (1, 1), (2, 2)], [[], []]], "stroke 1 has no points"),
    ([[(0, 0), (1, "a"), (2, 2)]], r"stroke 0, entry \[1\]\[1\]: 'a' is not a number"),
    ([[[1, 2, 3], [1, 2]]], "stroke 0: x has 3 values but y has 2"),
    ([[(0, 0), (1, 1), (2, 2, 3, 4), (3, 3)]], "stroke 0, point 2: 4 values"),
    ([[(0, 0), (1, 1), (2, 2), (3, 3)], [[1, 2, 3, 4], [1, 2, 3, 4]]], "stroke 1: its layout"),
    ([[(0, 0), (1, 1), (2, 2)], (3, 4)], r"stroke 1: a single point \(3, 4\)"),
    ("abc", "list of strokes"),
    ({"drawing": []}, "list of strokes"),
])
def test_bad_input_raises_a_clear_error(drawing, message):
    with pytest.raises(BadInputError, match=message):
        simplify(drawing, raw=True)


def test_absurdly_long_ink_is_refused_naming_the_stroke():
    zigzag = [(0.0, 0.0), (100.0, 0.0)] * 500  # 1,000 crossings of the frame: 255,000 px of ink
    with pytest.raises(BadInputError, match=f"stroke 1: the drawing's strokes are longer than {MAX_INK:g}"):
        simplify([[(0.0, 0.0), (0.0, 100.0), (5.0, 5.0)], zigzag], raw=True)


def test_bad_raw_flag_and_layout():
    with pytest.raises(BadInputError, match="raw must be True, False or None"):
        prepare_drawing([[(0, 0), (1, 1), (2, 2)]], raw="yes")
    with pytest.raises(ValueError, match="unknown layout"):
        simplify([[(0, 0), (1, 1), (2, 2)]], layout="columns")


# ---------------------------------------------------------------- raw phone input of real drawings


def test_raw_phone_input_is_recovered_close_to_the_original(test_drawings):
    rng = np.random.default_rng(6)
    worsts, means = [], []
    for i, rec in enumerate(test_drawings):
        raw = rawify(rec["drawing"], rng, layout="points" if i % 2 else "strokes")
        got = simplify(raw)
        assert not looks_simplified(parse_strokes(raw)) and looks_simplified(parse_strokes(got))
        # The frame's extremes survive within RDP's epsilon and rounding (as in Google's files).
        assert 253 <= max(max(max(s[0]), max(s[1])) for s in got) <= 255
        assert min(min(s[0]) for s in got) <= 2 and min(min(s[1]) for s in got) <= 2
        orig = _in_frame(rec["drawing"])  # the original, re-framed exactly like the recovery
        d1 = _polyline_distances(_dense(got), orig)
        d2 = _polyline_distances(_dense(orig), got)
        worsts.append(max(d1.max(), d2.max()))
        means.append((d1.mean() + d2.mean()) / 2)
        n_orig = sum(len(s[0]) for s in rec["drawing"])
        n_got = sum(len(s[0]) for s in got)
        assert 0.5 * n_orig <= n_got <= 2 * n_orig + 4, (i, n_orig, n_got)
    # epsilon 2 + rounding (0.71) + jitter (2 screen px ~ 0.6 px of the frame) for nearly all;
    # classic RDP measures distance to the line, so a hook at a span's end may be cut a little more.
    assert np.percentile(worsts, 95) <= EPSILON + 1.5, np.percentile(worsts, 95)
    assert max(worsts) <= 3 * EPSILON, max(worsts)
    assert np.mean(means) <= 0.6, np.mean(means)


@pytest.fixture(scope="module")
def recognizer(sketch_bundle):
    return SketchRecognizer(sketch_bundle, backend="tflite")


def test_model_agrees_on_recovered_raw_phone_input(recognizer, quickdraw_dir):
    """The issue's proof, on real test-split drawings made into raw phone input and recovered.

    The >= 99 % bar is the default model's (``tests/test_full_model.py`` holds it to that); the
    small model the fixtures train is held to 98.5 %: it measured 99.37 % on one machine and
    98.93 % on another (same training, bit for bit; 1,000 drawings, seeds 7-9), so 99 % would make
    this test depend on the CPU it runs on.

    Measured with the default bundle (96.35 % top-1), ``python -m experiments.raw_agreement
    --bundle bundles/sketch --per-category 1000 --seeds 5``: 99.69 % mean top-1 agreement at +-2 px
    jitter on all 1,998 test drawings (per seed 99.65-99.75 %), 99.75 % for merely re-simplifying
    the originals, 96.5 % for raw input fed to the model unsimplified (``tests/test_full_model.py``
    checks that bundle). The same recipe on the drawings' own points (``--resample-spacing 0``): 98.96 %.
    The small CI model, on the 1,000 drawings here: 99.37 % (per seed 99.3-99.5 %).
    """
    from inkcast.data.quickdraw import split_records

    drawings = split_records(quickdraw_dir, "test", per_category=200)  # 200 per category: a steadier figure than 60
    report = raw_agreement(recognizer, drawings, seeds=(7, 8, 9), jitter=2.0)
    assert report["drawings"] >= 950
    assert report["agreement_mean"] >= 0.985, report
    assert report["agreement_min"] >= 0.98, report
    floor = report["resimplified_agreement"]  # what re-running Google's steps alone changes
    assert report["agreement_mean"] >= floor - 0.01, report
    # The pipeline still earns its place: raw input fed to the model as it is agrees less often.
    assert report["unsimplified_agreement_mean"] < report["agreement_mean"], report


def test_predict_on_simplified_input_is_unchanged_by_detection(recognizer, test_drawings):
    for rec in test_drawings[:50]:
        d = rec["drawing"]
        np.testing.assert_array_equal(
            recognizer.probabilities(d),
            recognizer.probabilities(prepare_drawing(d, raw=None)),
        )
        assert recognizer.predict(d) == recognizer.predict(d, raw=False)


def test_predict_accepts_raw_points_and_names_bad_ones(recognizer, test_drawings):
    rng = np.random.default_rng(8)
    d = test_drawings[3]["drawing"]
    raw = rawify(d, rng)
    assert recognizer.predict(raw, raw=True) == recognizer.predict(raw)
    assert recognizer.predict(raw) == recognizer.predict(simplify(raw))
    bad = [list(s) for s in raw]
    bad[1][4] = (bad[1][4][0], float("nan"), 0.0)
    with pytest.raises(BadInputError, match="stroke 1, point 4: y is nan"):
        recognizer.predict(bad)
    with pytest.raises(BadInputError, match="drawing 1: stroke 1, point 4"):
        recognizer.predict_batch([raw, bad])
