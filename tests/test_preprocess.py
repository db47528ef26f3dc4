"""The preprocessing contract: shapes, normalization, stroke ends, truncation, and bad input."""

import math

import numpy as np
import pytest

from inkcast.runtime.errors import BadInputError
from inkcast.runtime.sketch_preprocess import (MAX_POINTS, drawing_to_features, pad_left,
                                               SketchPreprocessing)

SQUARE = [[[0, 100, 100, 0, 0], [0, 0, 50, 50, 0]]]


def test_offsets_are_normalized_per_axis_and_mark_stroke_ends():
    f = drawing_to_features(SQUARE + [[[10, 20], [10, 10]]])
    assert f.dtype == np.float32 and f.shape == (6, 3)
    # x spans 0..100 and y 0..50: both become 0..1, so the square's sides are unit offsets.
    np.testing.assert_allclose(f[:4, :2], [[1, 0], [0, 1], [-1, 0], [0, -1]], atol=1e-6)
    # Stroke ends are flagged on rows 3 and 5; row 4 is the pen's move to the second stroke.
    np.testing.assert_array_equal(f[:, 2], [0, 0, 0, 1, 0, 1])
    np.testing.assert_allclose(f[4:, :2], [[0.1, 0.2], [0.1, 0.0]], atol=1e-6)


def test_no_real_row_is_all_zero():
    # a repeated point and a new stroke starting where the last ended
    d = [[[0, 0, 10, 10], [0, 0, 0, 10]], [[10, 20], [10, 20]]]
    f = drawing_to_features(d)
    assert np.all(np.abs(f).max(axis=1) > 0)
    assert f[:, 2].sum() == 2  # both stroke ends survive


def test_long_drawings_keep_their_first_max_points_rows():
    xs = list(range(0, 300))
    ys = [int(50 + 40 * math.sin(i / 7)) for i in xs]
    full = drawing_to_features([[xs, ys]], max_points=10_000)
    cut = drawing_to_features([[xs, ys]])
    assert len(full) == 299 and len(cut) == MAX_POINTS
    np.testing.assert_array_equal(cut, full[:MAX_POINTS])
    assert SketchPreprocessing().to_dict()["max_points"] == MAX_POINTS


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
