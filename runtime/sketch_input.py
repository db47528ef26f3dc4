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

from itertools import chain
from typing import Any

import numpy as np

from .errors import BadInputError
from .simplify import MAX_INPUT_POINTS, MIN_MEDIAN_STEP, SIDE, prepare_drawing
from .sketch_preprocess import MAX_COORDINATE, SketchPreprocessing, drawing_to_points, points_to_features

_PLAIN = {int, float}


def parse_plain(drawing: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(points (n, 2) float64, index of each stroke's last point) of a drawing in the "strokes"
    layout made of Python ints and floats only, finite and within range; None for anything else."""
    if type(drawing) is not list or not drawing:
        return None
    xs: list[list] = []
    ys: list[list] = []
    for stroke in drawing:
        if type(stroke) not in (list, tuple) or len(stroke) not in (2, 3):
            return None
        x, y = stroke[0], stroke[1]
        if type(x) is not list or type(y) is not list or not x or len(x) != len(y):
            return None
        if len(stroke) == 3 and (type(stroke[2]) is not list or len(stroke[2]) != len(x)):
            return None
        xs.append(x)
        ys.append(y)
    if sum(map(len, xs)) > MAX_INPUT_POINTS:
        return None  # the general path refuses it with its message
    flat_x = list(chain.from_iterable(xs))
    flat_y = list(chain.from_iterable(ys))
    if not set(map(type, chain(flat_x, flat_y))) <= _PLAIN:
        return None  # bools, None, strings, NumPy scalars: the general path names them
    xy = np.empty((len(flat_x), 2))
    try:
        xy[:, 0] = flat_x
        xy[:, 1] = flat_y
    except OverflowError:  # an int beyond float range
        return None
    if not np.abs(xy).max() <= MAX_COORDINATE:  # also False for NaN
        return None
    ends = np.cumsum([len(x) for x in xs]) - 1
    return xy, ends


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


def looks_simplified_flat(xy: np.ndarray, ends: np.ndarray) -> bool:
    """``simplify.looks_simplified`` on parsed points: integers in 0..255 and a median segment
    (within strokes) of at least ``MIN_MEDIAN_STEP``."""
    if xy.min() < 0 or xy.max() > SIDE or not np.array_equal(xy, np.round(xy)):
        return False
    d = np.diff(xy, axis=0)
    steps = np.hypot(d[:, 0], d[:, 1])
    steps[ends[:-1]] = 0.0  # no segment joins the last point of a stroke to the next stroke's first
    steps = np.sort(steps[steps > 0]).tolist()
    n = len(steps)
    if n == 0:
        return False
    median = steps[n // 2] if n % 2 else (steps[n // 2 - 1] + steps[n // 2]) / 2  # np.median's arithmetic
    return median >= MIN_MEDIAN_STEP


def model_rows(drawing: Any, preprocessing: SketchPreprocessing, raw: bool | None = None) -> np.ndarray:
    """The (length, 3) float32 model rows of a drawing, raw or simplified (``raw`` as for
    ``SketchRecognizer.predict``)."""
    if raw is not None and not isinstance(raw, bool):
        raise BadInputError(f"raw must be True, False or None, got {raw!r}")
    parsed = parse_plain(drawing) if raw is not True else None
    if parsed is not None:
        xy, ends = parsed
        if raw is False or looks_simplified_flat(xy, ends):
            return points_to_features(_points(xy, ends), preprocessing.max_points, preprocessing.resample_spacing)
    return preprocessing.features_of(prepare_drawing(drawing, raw))
