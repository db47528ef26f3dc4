"""The preprocessing contract: shapes, normalization, stroke ends, truncation, and bad input."""

import math

import numpy as np
import pytest

from inkcast.runtime.errors import BadInputError
from inkcast.runtime.sketch_preprocess import (MAX_POINTS, SPACING, SketchPreprocessing, drawing_to_features,
                                               drawing_to_points, pad_left, resample_points)

SQUARE = [[[0, 100, 100, 0, 0], [0, 0, 50, 50, 0]]]


def test_offsets_are_normalized_per_axis_and_mark_stroke_ends():
    f = drawing_to_features(SQUARE + [[[10, 20], [10, 10]]], spacing=None)
    assert f.dtype == np.float32 and f.shape == (6, 3)
    # x spans 0..100 and y 0..50: both become 0..1, so the square's sides are unit offsets.
    np.testing.assert_allclose(f[:4, :2], [[1, 0], [0, 1], [-1, 0], [0, -1]], atol=1e-6)
    # Stroke ends are flagged on rows 3 and 5; row 4 is the pen's move to the second stroke.
    np.testing.assert_array_equal(f[:, 2], [0, 0, 0, 1, 0, 1])
    np.testing.assert_allclose(f[4:, :2], [[0.1, 0.2], [0.1, 0.0]], atol=1e-6)


def test_no_real_row_is_all_zero():
    # a repeated point and a new stroke starting where the last ended
    d = [[[0, 0, 10, 10], [0, 0, 0, 10]], [[10, 20], [10, 20]]]
    for spacing in (None, SPACING):
        f = drawing_to_features(d, spacing=spacing)
        assert np.all(np.abs(f).max(axis=1) > 0)
        assert f[:, 2].sum() == 2  # both stroke ends survive


def test_long_drawings_keep_their_first_max_points_rows():
    xs = list(range(0, 300))
    ys = [int(50 + 40 * math.sin(i / 7)) for i in xs]
    full = drawing_to_features([[xs, ys]], max_points=10_000, spacing=None)
    cut = drawing_to_features([[xs, ys]], spacing=None)
    assert len(full) == 299 and len(cut) == MAX_POINTS
    np.testing.assert_array_equal(cut, full[:MAX_POINTS])
    assert SketchPreprocessing().to_dict()["max_points"] == MAX_POINTS


def test_resampling_places_a_point_every_spacing_along_each_stroke():
    # An L-shaped stroke 200 + 100 units long in a 200 x 100 box, and a short second stroke.
    d = [[[0, 200, 200], [0, 0, 100]], [[0, 0], [50, 100]]]
    r = resample_points(drawing_to_points(d), spacing=16.0)
    ends = np.flatnonzero(r[:, 2] == 1)
    assert len(ends) == 2  # one pen-up per stroke, on each stroke's last point
    first, second = r[: ends[0] + 1, :2], r[ends[0] + 1 :, :2]
    # Scaled so the longer side is 255: the stroke is 255 + 127.5 long.
    np.testing.assert_allclose(first[[0, -1]], [[0, 0], [255, 127.5]])
    np.testing.assert_allclose(second[[0, -1]], [[0, 63.75], [0, 127.5]])
    steps = np.linalg.norm(np.diff(first, axis=0), axis=1)
    # Every step is the spacing along the path (shorter only across the corner), the last one
    # between half and one and a half spacings.
    assert np.all(steps[:-1] <= 16.0 + 1e-9) and np.sum(steps[:-1] < 16.0 - 1e-9) == 1
    assert 8.0 <= steps[-1] <= 24.0
    assert len(first) == 1 + round((255 + 127.5) / 16.0)


def test_resampled_input_ignores_how_the_drawing_was_sampled():
    """The reason for resampling: extra points on a straight segment, or the drawing at another
    scale, give the same model rows; a corner moved by a pixel changes the rows only slightly."""
    d = [[[0, 90, 120, 30], [0, 10, 80, 60]], [[10, 60], [70, 75]]]
    f = drawing_to_features(d)
    densified = [[[0, 30, 60, 90, 105, 120, 30], [0, 10 / 3, 20 / 3, 10, 45, 80, 60]], [[10, 35, 60], [70, 72.5, 75]]]
    np.testing.assert_allclose(drawing_to_features(densified), f, atol=1e-6)
    scaled = [[[3 * v + 500 for v in s[0]], [3 * v + 900 for v in s[1]]] for s in d]
    np.testing.assert_allclose(drawing_to_features(scaled), f, atol=1e-6)
    nudged = [[[0, 91, 120, 30], [0, 11, 80, 60]], d[1]]
    g = drawing_to_features(nudged)
    assert g.shape == f.shape and np.abs(g - f).max() < 0.02
    # Without resampling the extra points are extra rows.
    assert len(drawing_to_features(densified, spacing=None)) > len(drawing_to_features(d, spacing=None))


def test_single_point_strokes_and_the_manifest_field():
    d = [[[5], [5]], [[0, 100], [0, 100]]]  # a dot, then a line
    r = resample_points(drawing_to_points(d), 16.0)
    assert r[0, 2] == 1 and r[-1, 2] == 1 and len(r) == 1 + 1 + round(255 * math.sqrt(2) / 16)
    assert SketchPreprocessing().to_dict()["resample_spacing"] == SPACING
    # A manifest written before resampling existed means: use the drawing's own points.
    old = SketchPreprocessing().to_dict()
    del old["resample_spacing"]
    prep = SketchPreprocessing.from_dict(old)
    assert prep.resample_spacing is None
    np.testing.assert_array_equal(prep.features_of(SQUARE), drawing_to_features(SQUARE, spacing=None))


def test_numpy_strokes_are_accepted():
    d = [[np.array([0, 5, 9]), np.array([3, 1, 0])]]
    np.testing.assert_array_equal(drawing_to_features(d), drawing_to_features([[[0, 5, 9], [3, 1, 0]]]))


def test_pad_left_puts_zero_rows_first():
    a, b = np.ones((2, 3), np.float32), np.full((4, 3), 2, np.float32)
    x = pad_left([a, b])
    assert x.shape == (2, 4, 3)
    assert np.all(x[0, :2] == 0) and np.all(x[0, 2:] == 1) and np.all(x[1] == 2)


@pytest.mark.parametrize("drawing, message", [
    ([], "empty"),
    ("abc", "list of strokes"),
    (None, "list of strokes"),
    ([[[1, 2, 3], [1, 2]]], "x has 3 values but y has 2"),
    ([[[1, float("nan")], [1, 2]]], "NaN or infinite"),
    ([[[1, 2], [1, float("inf")]]], "NaN or infinite"),
    ([[[1, "a"], [1, 2]]], "not a number"),
    ([[[1, True], [1, 2]]], "not a number"),
    ([[[1, 2], [3, None]]], "not a number"),
    ([[[], []]], "no points"),
    ([[[5], [5]]], "fewer than two distinct points"),
    ([[[5, 5, 5], [7, 7, 7]]], "fewer than two distinct points"),
    ([[[1, 2], 3]], "must be a list"),
    ([[[0, 1e12], [0, 1]]], "out of range"),
    ([[[1, 2]]], "expected a pair"),
])
def test_bad_drawings_raise_a_clear_error(drawing, message):
    with pytest.raises(BadInputError, match=message):
        drawing_to_features(drawing)


def test_a_short_stroke_keeps_both_ends():
    # a 10-unit tick (shorter than half the spacing) next to a long line: the tick's direction stays
    d = [[[0, 255], [0, 0]], [[100, 100], [50, 60]]]
    r = resample_points(drawing_to_points(d), 24.0)
    np.testing.assert_allclose(r[-2:], [[100, 50, 0], [100, 60, 1]])


def _reference_resample(points: np.ndarray, spacing: float) -> np.ndarray:
    """The contract's resampling written with one NumPy call per step of each stroke (how it was
    first written): ``resample_points`` must give these numbers bit for bit."""
    xy = points[:, :2] - points[:, :2].min(axis=0)
    extent = float(xy.max())
    if extent > 0:
        xy = xy * (255.0 / extent)
    out, start = [], 0
    for end in np.flatnonzero(points[:, 2] == 1):
        s = xy[start : end + 1]
        start = end + 1
        arc = np.concatenate([[0.0], np.cumsum(np.sqrt((np.diff(s, axis=0) ** 2).sum(axis=1)))])
        length = arc[-1]
        at = np.zeros(1) if length == 0 else np.append(
            np.arange(0.0, max(length - spacing / 2, spacing / 2) - 1e-9 * spacing, spacing), length)
        keep = np.concatenate([[True], np.diff(arc) > 0])
        r = np.zeros((len(at), 3))
        r[:, 0] = np.interp(at, arc[keep], s[keep, 0])
        r[:, 1] = np.interp(at, arc[keep], s[keep, 1])
        r[-1, 2] = 1.0
        out.append(r)
    return np.concatenate(out)


def test_resampling_matches_the_numpy_reference_bit_for_bit(quickdraw_dir, data_dir):
    from inkcast.data.quickdraw import split_records

    records = split_records(quickdraw_dir, "test", per_category=100)
    records += split_records(data_dir / "quickdraw-raw" / "raw", "test", per_category=3)  # screen pixels
    rng = np.random.default_rng(0)
    points = [drawing_to_points(r["drawing"]) for r in records]
    for _ in range(200):  # repeated points, tiny and huge scales, one-point strokes
        n = int(rng.integers(1, 40))
        p = np.zeros((n, 3))
        p[:, :2] = rng.normal(size=(n, 2)) * rng.uniform(0.01, 1000)
        dup = np.flatnonzero(rng.random(n) < 0.3)
        p[dup[dup > 0], :2] = p[dup[dup > 0] - 1, :2]
        p[rng.random(n) < 0.2, 2] = 1
        p[-1, 2] = 1
        points.append(p)
    for p in points:
        for spacing in (24.0, 16.0, 3.0):
            got, want = resample_points(p, spacing), _reference_resample(p, spacing)
            assert got.shape == want.shape and np.array_equal(got, want)


def test_fast_input_path_gives_the_general_paths_rows(quickdraw_dir, data_dir):
    """``sketch_input.model_rows`` (predict's path) against prepare_drawing + features_of."""
    from inkcast.data.quickdraw import split_records
    from inkcast.runtime.simplify import prepare_drawing
    from inkcast.runtime.sketch_input import model_rows, parse_plain

    prep = SketchPreprocessing()
    simplified = [r["drawing"] for r in split_records(quickdraw_dir, "test", per_category=100)]
    raw = [r["drawing"] for r in split_records(data_dir / "quickdraw-raw" / "raw", "test", per_category=2)]
    floats = [[[[float(v) for v in row] for row in s] for s in d] for d in simplified[:50]]
    for d in simplified + raw + floats:
        for mode in (None, True, False):
            np.testing.assert_array_equal(model_rows(d, prep, mode), prep.features_of(prepare_drawing(d, mode)))
    assert all(parse_plain(d) is not None for d in simplified)
    for odd in ([[[1, True], [1, 2]]], [[np.array([1, 2]), [3, 4]]], [[(1, 2), (3, 4), (5, 6)]], [[[1, 2], [3]]],
                [[[1, float("nan")], [1, 2]]], [[[1, 10**400], [1, 2]]], [], "abc"):
        assert parse_plain(odd) is None  # the general path reads it (and names what is wrong)
    with pytest.raises(BadInputError, match="raw must be True, False or None"):
        model_rows(simplified[0], prep, "yes")
