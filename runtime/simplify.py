"""Raw strokes -> Quick, Draw!'s "simplified" format, the way Google made its simplified data.

The sketch model was trained on Google's simplified drawings. A device sees something else: touch
points in screen pixels, at any scale, sampled every few milliseconds, with sensor jitter. This
module turns such raw strokes into what the model knows, following the four steps Google lists
for the simplified dataset:

1. align the drawing to the top-left corner (minimum x and y become 0);
2. scale it uniformly (one factor for both axes, keeping the aspect ratio) so the larger side
   spans 0..255;
3. resample every stroke along its arc length at 1-pixel spacing (first and last point kept);
4. simplify every stroke with Ramer-Douglas-Peucker, epsilon 2.0;

then round to integers. Details Google does not state, chosen as follows:

* RDP is the classic algorithm: a point's distance is its perpendicular distance to the *line*
  through the span's two ends (the distance to that point when the ends coincide, as in a closed
  stroke). Checked against Google's own files: re-running RDP on them, the line distance finds
  fewer kept points closer than epsilon to their span than the distance to the segment does
  (0.9 % vs 1.6 % of splits below 1.5 px, 2,000 drawings), and re-simplifying drawings through
  this pipeline changed the recognizer's top-1 on 0.3 % of 300 test drawings (segment: 1.0 %);
* coordinates are rounded after RDP (half to even), and a point that rounds onto its predecessor
  is dropped;
* a stroke that collapses to one point (a tap or a dot) becomes two equal points, exactly as dots
  appear in Google's simplified files (every stroke there has at least two points);
* timestamps, when given, are accepted and ignored (Google's steps do not use them).

Why hand-written: no well-kept NumPy-only library performs Google's exact pipeline. The ``rdp``
package (last released 2017) is slow pure Python and recursive by default; the fast ones (``simplification``, ``rdp-rust``, ``fastrdp``) are compiled
extensions, an extra native dependency on every device; and none of them does the alignment,
scaling, resampling and rounding around RDP. RDP here is iterative, not recursive (no recursion
limit), and vectorized: each round splits every open span of every stroke at once. On a
20,000-point scribble that is ~8x faster than a per-span loop; on a typical drawing it is on par.

Input layouts (``layout``):

* ``"strokes"`` -- Quick, Draw! format, each stroke ``[[x...], [y...]]`` or ``[[x...], [y...],
  [t...]]``;
* ``"points"`` -- each stroke a list of points ``[(x, y), ...]`` or ``[(x, y, t), ...]``.

``layout=None`` decides from the shapes: a stroke of shape (2 or 3, n) can only be "strokes" and
one of shape (n, 2 or 3) only "points", unless both n and the other side are 2 or 3. When every
stroke is ambiguous like that (tiny drawings of 2-3-point strokes) the drawing is read as
"strokes", the format of the rest of inkcast; pass ``layout="points"`` to say otherwise.

Raw or simplified (``raw``): ``raw=True`` always runs the pipeline, ``raw=False`` never does (the
drawing is used as given), and ``raw=None`` decides with :func:`looks_simplified`: a drawing is
taken as already simplified -- and passed through unchanged -- when every coordinate is an integer
in 0..255 *and* the median distance between consecutive distinct points is at least 4 px. After
RDP at epsilon 2.0 points are sparse: in the 20,000 drawings of the five shared categories the
per-drawing median is never below 6 px. Raw touch input is dense (a point every 1-3 px), or in
screen pixels beyond 255, or fractional, so it fails the rule. Input that is raw yet sparse and
already in 0..255 integers (a tiny canvas sampled slowly) is passed through; say ``raw=True``
to force the pipeline. (RDP itself is no test: it is not idempotent, re-running it on Google's
output drops points in most drawings, and it is too slow to run on every prediction.)
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import BadInputError, OptionsError
from .sketch_preprocess import MAX_COORDINATE

SIDE = 255.0  # the larger side of a simplified drawing spans 0..SIDE
SPACING = 1.0  # resampling step, in pixels of the 0..255 frame
EPSILON = 2.0  # Ramer-Douglas-Peucker tolerance, in pixels of the 0..255 frame
MIN_MEDIAN_STEP = 4.0  # looks_simplified: simplified drawings have a median segment >= 6 px, dense raw ones ~1-3 px
MAX_INK = 200_000.0  # total stroke length allowed, in pixels of the 0..255 frame (~780 sides)
# points allowed in one drawing: Google's raw drawings have at most a few thousand; a bigger input
# is refused before any per-point work, so time and memory stay bounded
MAX_INPUT_POINTS = 100_000
LAYOUTS = ("strokes", "points")


# ---------------------------------------------------------------- parsing and validation


def _ragged(i: int, stroke: Sequence) -> str:
    """The message for a stroke whose rows (or points) have different lengths."""
    lens = [len(r) if isinstance(r, (Sequence, np.ndarray)) and not isinstance(r, (str, bytes)) else None
            for r in stroke]
    if len(stroke) in (2, 3) and None not in lens:
        names = "xyt"
        for k in range(1, len(lens)):
            if lens[k] != lens[0]:
                return f"stroke {i}: x has {lens[0]} values but {names[k]} has {lens[k]}"
    for j, n in enumerate(lens):
        if n not in (2, 3) or n != lens[0]:
            got = "a single value" if n is None else f"{n} values"
            return f"stroke {i}, point {j}: {got}, expected the {lens[0] or 2} of (x, y[, t]) like the first point"
    return f"stroke {i}: its rows have different lengths"


def _stroke_array(i: int, stroke: Any) -> np.ndarray:
    """One stroke as a 2-D float64 array in its given orientation; errors name the stroke."""
    if isinstance(stroke, (str, bytes)) or not isinstance(stroke, (Sequence, np.ndarray)):
        raise BadInputError(
            f"stroke {i}: expected [[x...], [y...]] or [(x, y), ...], got {type(stroke).__name__}"
        )
    if len(stroke) == 0:
        raise BadInputError(f"stroke {i} has no points")
    try:
        raw = np.asarray(stroke)
    except ValueError:
        raise BadInputError(_ragged(i, stroke)) from None
    # NumPy turns a bool among numbers into 0 or 1 (and the dtype stays numeric): look for one
    bools = raw.dtype.kind == "b" or (not isinstance(stroke, np.ndarray) and raw.dtype.kind in "iuf" and any(
        type(v) is bool or isinstance(v, np.bool_)
        for row in stroke for v in (row if isinstance(row, (Sequence, np.ndarray)) and not isinstance(row, (str, bytes))
                                    else [row])))
    if raw.dtype.kind not in "iuf" or bools:
        # Name the first value that is not a number, by its place in the stroke.
        for j, row in enumerate(stroke):
            nested = isinstance(row, (Sequence, np.ndarray)) and not isinstance(row, (str, bytes))
            for k, v in enumerate(row if nested else [row]):
                if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
                    where = f"[{j}][{k}]" if nested else f"[{j}]"
                    raise BadInputError(f"stroke {i}, entry {where}: {v!r:.40} is not a number")
        raise BadInputError(f"stroke {i}: values must be numbers, got {raw.dtype}")
    if raw.ndim == 1 and len(raw) in (2, 3):
        raise BadInputError(
            f"stroke {i}: a single point {tuple(raw.tolist())}; a stroke is a list of points "
            f"[(x, y), ...] or [[x...], [y...]]"
        )
    if raw.ndim != 2:
        raise BadInputError(f"stroke {i}: expected a 2-D list of numbers, got shape {raw.shape}")
    return raw.astype(np.float64, copy=False)


def _layouts_of(shape: tuple[int, int]) -> set[str]:
    rows, cols = shape
    out = set()
    if rows in (2, 3):
        out.add("strokes")
    if cols in (2, 3):
        out.add("points")
    return out


def parse_strokes(drawing: Any, layout: str | None = None) -> list[np.ndarray]:
    """Validate a drawing in either layout; return its strokes as (n, 2) float64 x, y arrays.

    Raises :class:`BadInputError` naming the stroke (and point) for a malformed structure, a
    non-number, NaN or infinity, or a coordinate beyond +-1e7. Timestamps are dropped.
    """
    return parse_drawing(drawing, layout)[0]


def parse_drawing(drawing: Any, layout: str | None = None, start: int = 0) -> tuple[list[np.ndarray], str]:
    """:func:`parse_strokes`, plus the layout the drawing was read in.

    ``start`` is the number of the first stroke in error messages (a stream adds strokes one by
    one, and its messages name the stroke's place in the whole drawing)."""
    if layout is not None and layout not in LAYOUTS:
        raise OptionsError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)} or None")
    if isinstance(drawing, (str, bytes, np.ndarray)) or not isinstance(drawing, Sequence):
        raise BadInputError(f"a drawing must be a list of strokes, got {type(drawing).__name__}")
    if len(drawing) == 0:
        raise BadInputError("the drawing is empty: it has no strokes")
    if len(drawing) > MAX_INPUT_POINTS:
        raise BadInputError(f"the drawing has {len(drawing):,} strokes; at most {MAX_INPUT_POINTS:,} points are accepted")
    arrays = []
    points = 0
    for i, s in enumerate(drawing, start):
        a = _stroke_array(i, s)
        points += max(a.shape) if a.ndim == 2 else a.size
        if points > MAX_INPUT_POINTS:
            raise BadInputError(f"stroke {i}: the drawing has more than {MAX_INPUT_POINTS:,} points, "
                                f"the most a drawing may have")
        arrays.append(a)
    if layout is None:
        possible = set(LAYOUTS)
        for i, a in enumerate(arrays, start):
            fits = _layouts_of(a.shape)
            if not fits:
                raise BadInputError(
                    f"stroke {i}: shape {a.shape} is neither [[x...], [y...](, [t...])] nor [(x, y(, t)), ...]"
                )
            if not possible & fits:
                raise BadInputError(
                    f"stroke {i}: its layout ({' or '.join(sorted(fits))}) differs from the strokes before it "
                    f"({' or '.join(sorted(possible))})"
                )
            possible &= fits
        layout = "strokes" if "strokes" in possible else "points"
    strokes = []
    for i, a in enumerate(arrays, start):
        if layout not in _layouts_of(a.shape):
            want = "[[x...], [y...](, [t...])]" if layout == "strokes" else "[(x, y(, t)), ...]"
            raise BadInputError(f"stroke {i}: shape {a.shape} does not fit layout {layout!r} ({want})")
        xy = np.ascontiguousarray(a[:2].T if layout == "strokes" else a[:, :2])
        if xy.shape[0] == 0:
            raise BadInputError(f"stroke {i} has no points")
        check_values(xy, i)
        strokes.append(xy)
    return strokes, layout


def check_values(xy: np.ndarray, stroke: int, first_point: int = 0) -> None:
    """Refuse NaN, infinite and out-of-range (beyond +-1e7) coordinates, naming stroke and point."""
    bad = ~np.isfinite(xy)
    if bad.any():
        j, k = np.argwhere(bad)[0]
        raise BadInputError(
            f"stroke {stroke}, point {first_point + j}: {'xy'[k]} is {xy[j, k]} (NaN or infinite)"
        )
    big = np.abs(xy) > MAX_COORDINATE
    if big.any():
        j, k = np.argwhere(big)[0]
        raise BadInputError(
            f"stroke {stroke}, point {first_point + j}: {'xy'[k]} = {xy[j, k]:g} is out of range "
            f"(|value| <= {MAX_COORDINATE:g})"
        )


def to_quickdraw(strokes: Sequence[np.ndarray]) -> list[list[list[float]]]:
    """(n, 2) stroke arrays -> a Quick, Draw! ``drawing`` (lists; integer values become ints)."""
    out = []
    for s in strokes:
        if np.all(s == np.round(s)):
            s = s.astype(np.int64)
        out.append([s[:, 0].tolist(), s[:, 1].tolist()])
    return out


# ---------------------------------------------------------------- the pipeline's steps


def resample(points: np.ndarray, spacing: float = SPACING) -> np.ndarray:
    """Points every ``spacing`` along the polyline's arc length, plus its last point.

    Repeated points are ignored; a polyline of zero length comes back as its single point.
    """
    step = np.hypot(*np.diff(points, axis=0).T)
    moved = step > 0
    p = points[np.concatenate([[True], moved])]
    if len(p) == 1:
        return p.copy()
    s = np.concatenate([[0.0], np.cumsum(step[moved])])
    length = s[-1]
    t = np.arange(0.0, length, spacing)
    if length - t[-1] < 1e-9 * spacing:
        t[-1] = length  # arange stopped a hair short of the end: snap instead of adding a near-copy
    else:
        t = np.append(t, length)
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], axis=1)


def _line_distances(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise perpendicular distance of p[i] to the line through a[i] and b[i] (the distance to
    the point a[i] where a[i] == b[i])."""
    ab = b - a
    ap = p - a
    length = np.hypot(ab[:, 0], ab[:, 1])
    cross = np.abs(ap[:, 0] * ab[:, 1] - ap[:, 1] * ab[:, 0])
    d = np.divide(cross, length, out=np.zeros(len(p)), where=length > 0)
    same = length == 0
    if same.any():
        d[same] = np.hypot(ap[same, 0], ap[same, 1])
    return d


def rdp_mask(points: np.ndarray, epsilon: float = EPSILON, ends: Sequence[int] = ()) -> np.ndarray:
    """Ramer-Douglas-Peucker: a boolean mask of the points kept at tolerance ``epsilon``.

    A span between two kept points keeps its farthest point (the first one, on ties) when that
    lies more than ``epsilon`` from the line through the span's ends, and is then split there;
    otherwise all its inner points go. The first and last points, and the indices in ``ends``
    (the first and last points of each stroke, so that many strokes go through in one call), are
    always kept.

    Not recursive: every round handles all open spans at once with array operations, so long
    strokes hit no recursion limit and each round is a handful of NumPy calls over the points
    still undecided. A span's outcome depends only on its own points, so the order of the
    rounds gives the same result as the textbook recursion.
    """
    n = len(points)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    keep[[0, n - 1]] = True
    keep[np.asarray(ends, dtype=np.int64)] = True
    open_ = ~keep  # points whose fate is still undecided
    idx = np.arange(n)
    while open_.any():
        left = np.maximum.accumulate(np.where(keep, idx, 0))
        right = np.minimum.accumulate(np.where(keep, idx, n - 1)[::-1])[::-1]
        c = idx[open_]
        d = _line_distances(points[c], points[left[c]], points[right[c]])
        span = left[c]
        first = np.flatnonzero(np.concatenate(([True], span[1:] != span[:-1])))  # span starts in c
        sizes = np.diff(np.append(first, len(c)))
        peak = np.maximum.reduceat(d, first)
        at_peak = np.flatnonzero(d == np.repeat(peak, sizes))
        group = np.searchsorted(first, at_peak, side="right") - 1
        winner = at_peak[np.concatenate(([True], group[1:] != group[:-1]))]  # first peak per span
        split = peak > epsilon
        keep[c[winner[split]]] = True
        open_[c[np.repeat(~split, sizes)]] = False  # spans within epsilon: their points go
        open_[keep] = False
    return keep


def rdp(points: np.ndarray, epsilon: float = EPSILON) -> np.ndarray:
    """The points Ramer-Douglas-Peucker keeps (see :func:`rdp_mask`)."""
    return points[rdp_mask(points, epsilon)]


# ---------------------------------------------------------------- the whole pipeline


def frame_of(strokes: Sequence[np.ndarray]) -> tuple[np.ndarray, float]:
    """The alignment offset and uniform scale of Google's steps 1-2: ``(xy - offset) * scale``.

    Raises :class:`BadInputError` when the drawing has a single point or all points are equal.
    """
    allpts = np.concatenate(strokes)
    lower = allpts.min(axis=0)
    side = float((allpts.max(axis=0) - lower).max())
    magnitude = max(1.0, float(np.abs(allpts).max()))
    if side <= 1e-9 * magnitude:
        if len(allpts) == 1:
            raise BadInputError(
                f"the drawing is a single point ({allpts[0, 0]:g}, {allpts[0, 1]:g}): nothing to recognize"
            )
        raise BadInputError(
            f"all {len(allpts)} points of the drawing are at ({allpts[0, 0]:g}, {allpts[0, 1]:g}): "
            f"nothing to recognize"
        )
    return lower, SIDE / side


def _round_stroke(p: np.ndarray) -> np.ndarray:
    """Round kept points to integers, drop repeats; a dot becomes two equal points."""
    p = np.clip(np.round(p), 0.0, SIDE)
    p = p[np.concatenate(([True], np.any(p[1:] != p[:-1], axis=1)))]
    if len(p) == 1:
        p = np.repeat(p, 2, axis=0)  # a dot: two equal points, as in Google's files
    return p.astype(np.int64)


def simplify_stroke(xy: np.ndarray, offset: np.ndarray, scale: float) -> np.ndarray:
    """One stroke through steps 1-4 and rounding, in a given frame; (m >= 2, 2) int64."""
    return _round_stroke(rdp(resample((xy - offset) * scale)))


def check_ink(strokes: Sequence[np.ndarray], scale: float) -> None:
    """Refuse drawings whose strokes, in the 0..255 frame, are longer than ``MAX_INK`` in total:
    resampling at 1 px would make that many points (memory and time without bound)."""
    total = 0.0
    for i, s in enumerate(strokes):
        total += float(np.hypot(*np.diff(s, axis=0).T).sum()) * scale
        if total > MAX_INK:
            raise BadInputError(
                f"stroke {i}: the drawing's strokes are longer than {MAX_INK:g} pixels of the 0..255 frame "
                f"in total (about {MAX_INK / SIDE:.0f} times across it): not a drawing"
            )


def simplify_strokes(strokes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Validated (n, 2) strokes -> Google-simplified (m, 2) int64 strokes (see the module doc).

    Same result as :func:`simplify_stroke` on each stroke; RDP runs once over all strokes."""
    offset, scale = frame_of(strokes)
    check_ink(strokes, scale)
    dense = [resample((s - offset) * scale) for s in strokes]
    stops = np.cumsum([len(d) for d in dense])
    ends = np.concatenate([stops - 1, stops[:-1]])  # each stroke's last and the next one's first
    allpts = np.concatenate(dense)
    keep = rdp_mask(allpts, EPSILON, ends)
    return [_round_stroke(p[k]) for p, k in zip(dense, np.split(keep, stops[:-1]))]


def looks_simplified(strokes: Sequence[np.ndarray]) -> bool:
    """The auto-detection rule: integer coordinates in 0..255, and a median segment of >= 4 px.

    Parsed (n, 2) strokes in; see the module doc for why this separates the two kinds of input.
    """
    for s in strokes:
        if s.min() < 0 or s.max() > SIDE or not np.all(s == np.round(s)):
            return False
    steps = np.concatenate([np.hypot(*np.diff(s, axis=0).T) for s in strokes])
    steps = steps[steps > 0]
    return steps.size > 0 and float(np.median(steps)) >= MIN_MEDIAN_STEP


def simplify(drawing: Any, raw: bool | None = None, layout: str | None = None) -> list[list[list[int]]]:
    """Any drawing -> Quick, Draw! simplified format ``[[[x...], [y...]], ...]`` of ints.

    ``raw=True`` always simplifies, ``raw=False`` only converts the layout, ``raw=None`` simplifies
    unless :func:`looks_simplified` says the drawing already is (then it comes back unchanged).
    """
    strokes = parse_strokes(drawing, layout)
    if raw is None:
        raw = not looks_simplified(strokes)
    if raw:
        strokes = simplify_strokes(strokes)
    return to_quickdraw(strokes)


def prepare_drawing(drawing: Any, raw: bool | None = None) -> Any:
    """What the recognizer feeds the preprocessing contract: ``drawing`` itself if it is already
    simplified Quick, Draw! data, else its simplified (or layout-converted) version.

    A simplified drawing in the "strokes" layout is returned as the very same object, so the
    recognizer's answer for Google's data is exactly what it was before raw input existed.
    """
    if raw is not None and not isinstance(raw, bool):
        raise BadInputError(f"raw must be True, False or None, got {raw!r}")
    strokes, layout = parse_drawing(drawing)
    if raw is None:
        raw = not looks_simplified(strokes)
    if raw:
        return to_quickdraw(simplify_strokes(strokes))
    return drawing if layout == "strokes" else to_quickdraw(strokes)
