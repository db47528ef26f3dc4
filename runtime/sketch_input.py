"""Any drawing the recognizer is given -> its model rows, with a fast path for the common case.

The general path (``simplify.prepare_drawing`` then ``SketchPreprocessing.features_of``) reads a
drawing twice (layout detection, then the contract's own validation) and checks each value in
Python; that cost more than the model itself (predict was 2.2-2.6x the bare model call). Most
inputs are plain Quick, Draw! drawings: lists of strokes ``[[x...], [y...](, [t...])]`` of
Python ints or floats. For those, :func:`model_rows` parses the whole drawing with a few NumPy
calls and, when it is already simplified, builds the contract's points directly: the rows are
the very numbers the general path makes. Anything else (raw input, NumPy arrays, point lists,
and every malformed drawing) takes the general path, so errors keep their messages.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import BadInputError
from .simplify import MAX_INPUT_POINTS, MIN_MEDIAN_STEP, SIDE, prepare_drawing
from .sketch_preprocess import MAX_COORDINATE, SketchPreprocessing, drawing_to_points, features_of_lists

_PLAIN = {int, float}


def parse_plain_lists(drawing: Any) -> tuple[list, list, list[int]] | None:
    """(every point's x, every point's y, index of each stroke's last point) of a drawing in the
    "strokes" layout made of Python ints and floats only, finite and within range, as plain
    lists; None for anything else."""
    if type(drawing) is not list or not drawing:
        return None
    xs: list = []
    ys: list = []
    ends: list[int] = []
    for stroke in drawing:
        if type(stroke) not in (list, tuple) or len(stroke) not in (2, 3):
            return None
        x, y = stroke[0], stroke[1]
        if type(x) is not list or type(y) is not list or not x or len(x) != len(y):
            return None
        if len(stroke) == 3 and (type(stroke[2]) is not list or len(stroke[2]) != len(x)):
            return None
        xs += x
        ys += y
        ends.append(len(xs) - 1)
    if len(xs) > MAX_INPUT_POINTS:
        return None  # the general path refuses it with its message
    types = set(map(type, xs)) | set(map(type, ys))
    if not types <= _PLAIN:
        return None  # bools, None, strings, NumPy scalars: the general path names them
    m = MAX_COORDINATE
    if float in types:  # NaN and infinities fail these comparisons
        if not (all(-m <= v <= m for v in xs) and all(-m <= v <= m for v in ys)):
            return None
    elif min(xs) < -m or max(xs) > m or min(ys) < -m or max(ys) > m:
        return None
    return xs, ys, ends


def parse_plain(drawing: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``parse_plain_lists`` as (points (n, 2) float64, index of each stroke's last point)."""
    parsed = parse_plain_lists(drawing)
    if parsed is None:
        return None
    xs, ys, ends = parsed
    xy = np.empty((len(xs), 2))
    xy[:, 0] = xs
    xy[:, 1] = ys
    return xy, np.asarray(ends)


def looks_simplified_lists(xs: list, ys: list, ends: list[int]) -> bool:
    """``simplify.looks_simplified`` on ``parse_plain_lists``'s lists: integers in 0..255 and a
    median segment (within strokes) of at least ``MIN_MEDIAN_STEP``. The median is compared as
    NumPy's would be: the middle squared lengths are exact integers, so the square roots of the
    one or two middle ones decide it exactly."""
    if min(xs) < 0 or min(ys) < 0 or max(xs) > SIDE or max(ys) > SIDE:
        return False
    for v in (*xs, *ys):
        if type(v) is float and not v.is_integer():
            return False
    d2 = []
    start = 0
    for end in ends:
        for i in range(start + 1, end + 1):
            dx, dy = xs[i] - xs[i - 1], ys[i] - ys[i - 1]
            if dx or dy:
                d2.append(dx * dx + dy * dy)
        start = end + 1
    n = len(d2)
    if n == 0:
        return False
    d2.sort()
    median = math.sqrt(d2[n // 2]) if n % 2 else (math.sqrt(d2[n // 2 - 1]) + math.sqrt(d2[n // 2])) / 2
    return median >= MIN_MEDIAN_STEP


def _points(xy: np.ndarray, ends: np.ndarray) -> np.ndarray:
    points = np.zeros((len(xy), 3))
    points[:, :2] = xy
    points[ends, 2] = 1.0
    return points


def plain_points(drawing: Any) -> np.ndarray:
    """``sketch_preprocess.drawing_to_points`` with :func:`parse_plain`'s fast path: the same
    (n, 3) absolute points, a few NumPy calls instead of a Python check per value for plain
    Quick, Draw! lists (readers of millions of drawings use it); other input, malformed input
    included, goes through ``drawing_to_points`` and its messages."""
    parsed = parse_plain(drawing)
    return drawing_to_points(drawing) if parsed is None else _points(*parsed)


def model_rows(drawing: Any, preprocessing: SketchPreprocessing, raw: bool | None = None) -> np.ndarray:
    """The (length, 3) float32 model rows of a drawing, raw or simplified (``raw`` as for
    ``SketchRecognizer.predict``)."""
    if raw is not None and not isinstance(raw, bool):
        raise BadInputError(f"raw must be True, False or None, got {raw!r}")
    parsed = parse_plain_lists(drawing) if raw is not True else None
    if parsed is not None:
        xs, ys, ends = parsed
        if raw is False or looks_simplified_lists(xs, ys, ends):
            return features_of_lists(xs, ys, ends, preprocessing.max_points, preprocessing.resample_spacing)
    return preprocessing.features_of(prepare_drawing(drawing, raw))
