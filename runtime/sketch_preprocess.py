"""The sketch preprocessing contract: a Quick, Draw! drawing -> a (length, 3) float32 tensor.

Training imports this module, and so does the on-device runtime, so a model always sees on the
device exactly what it was trained on. NumPy only.

The tensor follows TensorFlow's Quick, Draw! RNN tutorial, with one step in front:

* each stroke is resampled every ``SPACING`` = 24 units of arc length, in Google's frame (the
  drawing scaled so its longer side is 255). The model sees the shape, not how densely or where
  it was sampled: raw touch input simplified on the device keeps a borderline point that Google's
  file merged, or the other way round, and before this step that alone changed the answer on
  1.0 % of the test drawings, now 0.3 % (``resample_points``; ``resample_spacing`` in the manifest);
* the drawing's bounding box is scaled to [0, 1] on each axis, consecutive points become offsets
  (dx, dy), and a third column marks the last point of each stroke (end-of-stroke = 1);
* a row with zero offset and no stroke end (a pen lift and put-down on the same spot, or a
  repeated point) is dropped, and a zero-offset stroke end moves its flag to the previous row.
  So no real row is all zeros, and an all-zero row always means padding;
* the model is padding-invariant by construction (see ``inkcast.training.sketch_model``), and
  batches are padded on the *left* with zero rows.

``MAX_POINTS`` is the single place that caps the length: a drawing with more rows keeps its
first ``MAX_POINTS`` rows (the strokes people draw first) and drops the rest. In the five-category
data the median drawing has 35 rows, 95 % have at most 54, and the cap cuts 0.3 % of them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from numbers import Real
from typing import Any, Sequence

import numpy as np

from .errors import BadInputError

MAX_POINTS = 128  # rows of the model input; longer drawings are truncated (see module doc)
SPACING = 24.0  # arc-length resampling step, in the 0..255 frame (see resample_points)
FEATURES = 3  # dx, dy, end_of_stroke
BOUNDARY_SLACK = 1e-9  # see _resampled: samples closer than (0.5 + 1e-9) spacings to a stroke's end are not made
MAX_COORDINATE = 1e7  # larger absolute coordinates are refused: they overflow float32 offsets


@dataclass(frozen=True)
class SketchPreprocessing:
    """The parameters of the contract, written to every bundle's manifest."""

    max_points: int = MAX_POINTS
    features: tuple[str, ...] = ("dx", "dy", "end_of_stroke")
    normalization: str = "bounding-box per axis to [0, 1]"
    padding: str = "left, with zero rows"
    longer_drawings: str = "truncated to the first max_points rows"
    # Each stroke resampled every ``resample_spacing`` units of arc length, the drawing scaled so
    # its longer side is 255 (None: the drawing's own points, as bundles before this field had).
    resample_spacing: float | None = SPACING

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"] = list(self.features)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SketchPreprocessing":
        """A manifest's ``preprocessing``; one written before ``resample_spacing`` means None."""
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known.setdefault("resample_spacing", None)
        if "features" in known:
            known["features"] = tuple(known["features"])
        return cls(**known)

    def features_of(self, drawing: Any) -> np.ndarray:
        """A drawing's (length, 3) model rows under these parameters."""
        return drawing_to_features(drawing, self.max_points, self.resample_spacing)


def _is_number(v: Any) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def validate_drawing(drawing: Any) -> list[np.ndarray]:
    """Check a drawing's structure and values; return its strokes as (n, 2) float64 arrays.

    A drawing is Quick, Draw!'s ``drawing`` field: a non-empty list of strokes, each a pair
    ``[[x0, x1, ...], [y0, y1, ...]]`` of equal-length lists of finite numbers. (Extra rows, such
    as the timestamps of Google's raw format, are ignored.)
    """
    if isinstance(drawing, np.ndarray) or not isinstance(drawing, Sequence) or isinstance(drawing, (str, bytes)):
        raise BadInputError(
            f"a drawing must be a list of strokes [[x...], [y...]], got {type(drawing).__name__}"
        )
    if len(drawing) == 0:
        raise BadInputError("the drawing is empty: it has no strokes")
    strokes: list[np.ndarray] = []
    for i, stroke in enumerate(drawing):
        if not isinstance(stroke, (Sequence, np.ndarray)) or isinstance(stroke, (str, bytes)) or len(stroke) < 2:
            raise BadInputError(f"stroke {i}: expected a pair [[x...], [y...]], got {stroke!r:.80}")
        xs, ys = stroke[0], stroke[1]
        for axis, values in (("x", xs), ("y", ys)):
            if not isinstance(values, (Sequence, np.ndarray)) or isinstance(values, (str, bytes)):
                raise BadInputError(f"stroke {i}: {axis} must be a list of numbers, got {values!r:.80}")
        if len(xs) != len(ys):
            raise BadInputError(f"stroke {i}: x has {len(xs)} values but y has {len(ys)}")
        if len(xs) == 0:
            raise BadInputError(f"stroke {i} has no points")
        if isinstance(xs, np.ndarray) and isinstance(ys, np.ndarray) and xs.dtype.kind in "iuf" and ys.dtype.kind in "iuf":
            arr = np.stack([xs, ys], axis=1).astype(np.float64)
        else:
            for axis, values in (("x", xs), ("y", ys)):
                for j, v in enumerate(values):
                    if not _is_number(v):
                        raise BadInputError(f"stroke {i}, point {j}: {axis} is not a number: {v!r:.40}")
            arr = np.array([xs, ys], dtype=np.float64).T
        bad = ~np.isfinite(arr)
        if bad.any():
            j, a = np.argwhere(bad)[0]
            raise BadInputError(f"stroke {i}, point {j}: {'xy'[a]} is {arr[j, a]} (NaN or infinite)")
        if np.abs(arr).max() > MAX_COORDINATE:
            raise BadInputError(
                f"stroke {i}: coordinate {np.abs(arr).max():g} is out of range (|value| <= {MAX_COORDINATE:g})"
            )
        strokes.append(arr)
    return strokes


def drawing_to_points(drawing: Any) -> np.ndarray:
    """A validated drawing as one (n, 3) array of absolute (x, y, end_of_stroke) points."""
    strokes = validate_drawing(drawing)
    total = sum(len(s) for s in strokes)
    points = np.zeros((total, 3), dtype=np.float64)
    at = 0
    for s in strokes:
        points[at : at + len(s), :2] = s
        at += len(s)
        points[at - 1, 2] = 1.0
    return points


def _resampled(points: np.ndarray, spacing: float) -> tuple[list[float], list[float], list[float]]:
    """``resample_points`` as three Python lists (x, y, end_of_stroke); see there."""
    return resampled_lists(points[:, 0].tolist(), points[:, 1].tolist(),
                           np.flatnonzero(points[:, 2] == 1).tolist(), spacing)


def resampled_lists(xs: list, ys: list, ends: list[int],
                    spacing: float) -> tuple[list[float], list[float], list[float]]:
    """``resample_points`` on plain lists: the x and y of every point (ints or floats) and the index
    of each stroke's last point; the same IEEE arithmetic as the NumPy form, step for step."""
    lo_x, lo_y = min(xs), min(ys)
    xs = [x - lo_x for x in xs]
    ys = [y - lo_y for y in ys]
    extent = float(max(max(xs), max(ys)))
    if extent > 0:
        f = 255.0 / extent
        xs = [x * f for x in xs]
        ys = [y * f for y in ys]
    else:
        xs, ys = [float(x) for x in xs], [float(y) for y in ys]
    ox: list[float] = []
    oy: list[float] = []
    flags: list[float] = []
    start = 0
    half = spacing / 2
    for end in ends:
        # knots: arc length at each point, skipping points that do not move the arc on
        kx, ky, ka = [xs[start]], [ys[start]], [0.0]
        arc = 0.0
        for i in range(start + 1, end + 1):
            dx, dy = xs[i] - xs[i - 1], ys[i] - ys[i - 1]
            nxt = arc + math.sqrt(dx * dx + dy * dy)
            if nxt - arc > 0:
                kx.append(xs[i])
                ky.append(ys[i])
                ka.append(nxt)
            arc = nxt
        start = end + 1
        if arc > 0:
            j = 0
            # none within spacing / 2 of the end; the 1e-9 slack keeps a stroke whose length sits on
            # that boundary (common for integer drawings: 108 = 4 x 24 + 12) from gaining a sample
            # through rounding noise, which broke scale invariance (found by the long fuzz profile)
            for i in range(math.ceil((max(arc - half, half) - BOUNDARY_SLACK * spacing) / spacing)):
                a = i * spacing
                while ka[j + 1] <= a:  # the last knot at or before a (a < arc = ka[-1])
                    j += 1
                if ka[j] == a:
                    ox.append(kx[j])
                    oy.append(ky[j])
                else:  # np.interp's formula
                    w = a - ka[j]
                    ox.append((kx[j + 1] - kx[j]) / (ka[j + 1] - ka[j]) * w + kx[j])
                    oy.append((ky[j + 1] - ky[j]) / (ka[j + 1] - ka[j]) * w + ky[j])
                flags.append(0.0)
        ox.append(kx[-1])
        oy.append(ky[-1])
        flags.append(1.0)
    return ox, oy, flags


def resample_points(points: np.ndarray, spacing: float = SPACING) -> np.ndarray:
    """(n, 3) absolute points -> the same strokes sampled every ``spacing`` along their length.

    The drawing is first moved to the origin and scaled so that its longer side is 255 (Google's
    frame, aspect kept). Each stroke keeps its first and last point and gets one point every
    ``spacing`` units of arc length in between (none closer than ``spacing / 2`` to the end).
    Why: the model then sees the shape, not how it was sampled. The same stroke with an extra
    point on a straight segment gives the same rows, and one corner more or less (what
    Ramer-Douglas-Peucker keeps or merges when raw touch input is simplified on the device)
    moves a few rows slightly instead of changing the row structure.

    Written by hand (the runtime may not import TensorFlow or SciPy) in plain Python floats: a
    drawing has a few dozen points in a few strokes, where one NumPy call per step of each stroke
    cost more than the model itself. The arithmetic is IEEE double, step for step that of a
    per-stroke ``np.cumsum`` / ``np.arange`` / ``np.interp`` (``tests/test_preprocess.py`` holds
    it to that loop bit for bit).
    """
    return np.array(_resampled(points, spacing)).T


def points_to_features(points: np.ndarray, max_points: int = MAX_POINTS,
                       spacing: float | None = SPACING) -> np.ndarray:
    """(n, 3) absolute points -> (length, 3) float32 model rows; see the module doc for the rules.

    ``spacing``: resample first (``resample_points``); None uses the points as they are."""
    return features_of_lists(points[:, 0].tolist(), points[:, 1].tolist(),
                             np.flatnonzero(points[:, 2] == 1).tolist(), max_points, spacing)


def features_of_lists(xs: list, ys: list, ends: list[int], max_points: int = MAX_POINTS,
                      spacing: float | None = SPACING) -> np.ndarray:
    """``points_to_features`` on plain lists (every point's x and y, ints or floats, and the index of
    each stroke's last point). Plain Python floats for the reason ``resample_points`` gives, with
    NumPy's arithmetic: the rows are the same numbers to the bit."""
    if spacing is not None:
        xs, ys, flags = resampled_lists(xs, ys, ends, spacing)
    else:
        flags = [0.0] * len(xs)
        for e in ends:
            flags[e] = 1.0
    lo_x, lo_y = min(xs), min(ys)
    sx, sy = max(xs) - lo_x, max(ys) - lo_y
    sx, sy = sx or 1.0, sy or 1.0
    nx = [(x - lo_x) / sx for x in xs]
    ny = [(y - lo_y) / sy for y in ys]
    flat: list[float] = []  # rows (dx, dy, end_of_stroke), one after another
    px, py = nx[0], ny[0]
    for i in range(1, len(nx)):
        x, y = nx[i], ny[i]
        dx, dy = x - px, y - py
        px, py = x, y
        if dx != 0 or dy != 0:
            flat += (dx, dy, flags[i])
        elif flags[i] == 1 and flat:
            flat[-1] = 1.0  # a zero-offset stroke end hands its flag to the closest earlier row kept
    if not flat:
        raise BadInputError("the drawing has fewer than two distinct points: nothing to recognize")
    return np.array(flat[: 3 * max_points], dtype=np.float32).reshape(-1, 3)


def drawing_to_features(drawing: Any, max_points: int = MAX_POINTS,
                        spacing: float | None = SPACING) -> np.ndarray:
    """A Quick, Draw! drawing -> its (length, 3) float32 model input (length <= max_points)."""
    return points_to_features(drawing_to_points(drawing), max_points, spacing)


def pad_left(batch: Sequence[np.ndarray], length: int | None = None) -> np.ndarray:
    """Stack (length_i, F) rows into one (n, length, F) float32 array, zero rows on the left
    (rows longer than ``length`` keep their last ``length``)."""
    length = max(len(r) for r in batch) if length is None else length
    feats = batch[0].shape[1] if len(batch) else FEATURES
    out = np.zeros((len(batch), length, feats), dtype=np.float32)
    for i, r in enumerate(batch):
        r = r[-length:] if len(r) > length else r
        out[i, length - len(r) :] = r
    return out
