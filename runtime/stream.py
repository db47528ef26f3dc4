"""Recognition while the user draws: feed strokes or points, get the current top-k after each.

``SketchRecognizer.stream()`` returns a :class:`SketchStream`. Each update re-recognizes the whole
drawing so far, because the preprocessing contract normalizes by the drawing's bounding box (and
the raw pipeline scales by it): a new point can change every model row, so no LSTM state can be
carried over. An update therefore costs at most one full prediction of the drawing so far, and
usually less: the new points alone are validated, and for raw input the simplified form of each
finished stroke is kept and reused for as long as the drawing's frame (its top-left corner and
scale) does not change.

The answer after the last update is exactly ``recognizer.predict(drawing, top_k, raw)`` for the
whole drawing (same steps, same numbers, same model call). Before the drawing has two distinct
points there is nothing to recognize, and updates return ``[]``.

A stream belongs to one drawing and one thread; many streams may share one recognizer across
threads (see ``SketchRecognizer``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .errors import BadInputError, OptionsError
from .ranking import Prediction, Recognition, check_top_k
from .simplify import (
    LAYOUTS,
    check_ink,
    check_values,
    frame_of,
    looks_simplified,
    parse_drawing,
    simplify_stroke,
    to_quickdraw,
)

if TYPE_CHECKING:
    from .recognizer import SketchRecognizer


def _as_points(points: Any, stroke: int, first_point: int) -> np.ndarray:
    """Points ``[(x, y), ...]``, ``[(x, y, t), ...]`` or one ``(x, y[, t])`` -> (n, 2) float64."""
    if isinstance(points, (str, bytes)) or not isinstance(points, (Sequence, np.ndarray)):
        raise BadInputError(
            f"stroke {stroke}: points must be [(x, y), ...] or [(x, y, t), ...], got {type(points).__name__}"
        )
    try:
        a = np.asarray(points)
    except ValueError:
        raise BadInputError(f"stroke {stroke}: the points have different numbers of values") from None
    if a.size == 0:
        return np.zeros((0, 2))
    if a.dtype.kind not in "iuf":
        raise BadInputError(
            f"stroke {stroke}, points from {first_point}: every value must be a number, got {points!r:.60}"
        )
    if a.ndim == 1 and len(a) in (2, 3):
        a = a[None]  # a single point
    if a.ndim != 2 or a.shape[1] not in (2, 3):
        raise BadInputError(
            f"stroke {stroke}: points must be [(x, y), ...] or [(x, y, t), ...], got shape {a.shape}"
        )
    xy = np.ascontiguousarray(a[:, :2], dtype=np.float64)
    check_values(xy, stroke, first_point)
    return xy


class SketchStream:
    """One drawing recognized as it grows; see the module doc.

    ``add_stroke(stroke)`` adds a finished stroke (either layout of :mod:`.simplify`);
    ``add_points(points)`` continues the current stroke, starting one if none is open;
    ``end_stroke()`` finishes it. Each returns the current top-k, ``[(label, p), ...]``.
    ``raw`` and ``layout`` mean what they mean for ``predict`` and :func:`.simplify.simplify`
    (``layout`` only matters for strokes whose shape fits both layouts).
    A failed update (bad values, an oversized drawing) raises and leaves the stream unchanged.
    """

    def __init__(self, recognizer: SketchRecognizer, top_k: int = 3, raw: bool | None = None,
                 layout: str | None = None):
        top_k = check_top_k(top_k)
        if raw is not None and not isinstance(raw, bool):
            raise BadInputError(f"raw must be True, False or None, got {raw!r}")
        if layout is not None and layout not in LAYOUTS:
            raise OptionsError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)} or None")
        self.recognizer = recognizer
        self.top_k = top_k
        self.raw = raw
        self.layout = layout
        self.reset()

    # ------------------------------------------------------------ state

    def reset(self) -> None:
        """Forget the drawing: the next update starts a new one."""
        self._done: list[np.ndarray] = []  # finished strokes, (n, 2) float64
        self._open: np.ndarray | None = None  # the stroke being drawn
        self._frame: tuple[float, float, float] | None = None  # frame the cache below is valid for
        self._cache: dict[int, np.ndarray] = {}  # finished stroke index -> its simplified form
        self.last: Prediction = []
        self._probabilities: np.ndarray | None = None  # of the drawing after the last update

    @property
    def strokes(self) -> list[np.ndarray]:
        """The drawing so far as (n, 2) float64 arrays, the open stroke last (copies)."""
        out = [s.copy() for s in self._done]
        if self._open is not None:
            out.append(self._open.copy())
        return out

    @property
    def drawing(self) -> list[list[list[float]]]:
        """The drawing so far in Quick, Draw! format (what ``predict`` would be given)."""
        return to_quickdraw(self.strokes)

    # ------------------------------------------------------------ updates

    def add_stroke(self, stroke: Any) -> Prediction:
        """Finish any open stroke, add ``stroke`` as a finished one; the current top-k."""
        index = len(self._done) + (self._open is not None)
        (xy,), _ = parse_drawing([stroke], self.layout, start=index)
        saved = (list(self._done), self._open)
        self._close()
        self._done.append(xy)
        return self._update(saved)

    def add_points(self, points: Any) -> Prediction:
        """Continue the open stroke (or start one) with ``points``; the current top-k."""
        stroke = len(self._done)
        have = 0 if self._open is None else len(self._open)
        xy = _as_points(points, stroke, have)
        if len(xy) == 0:
            return self.last
        saved = (list(self._done), self._open)
        self._open = xy if self._open is None else np.concatenate([self._open, xy])
        return self._update(saved)

    def end_stroke(self) -> Prediction:
        """Finish the open stroke (if any). The answer does not change: an open stroke is
        recognized as if it ended at its last point."""
        self._close()
        return self.last

    def predict(self) -> Prediction:
        """The current top-k (as returned by the last update)."""
        return self.last

    def recognize(self) -> Recognition | None:
        """The current drawing's ``Recognition`` (label or "unknown", ``recognizer.recognize`` of
        the whole drawing), or None while there is nothing to recognize yet."""
        if not self.last or self._probabilities is None:
            return None
        return self.recognizer.recognition(self._probabilities, self.top_k)

    # ------------------------------------------------------------ internals

    def _close(self) -> None:
        if self._open is not None:
            self._done.append(self._open)
            self._open = None

    def _update(self, saved: tuple[list[np.ndarray], np.ndarray | None]) -> Prediction:
        """Recognize the new state; on a refused drawing go back to ``saved`` and re-raise."""
        try:
            self.last = self._recognize()
        except BadInputError:
            self._done, self._open = saved
            self._frame, self._cache = None, {}
            raise
        return self.last

    def _recognize(self) -> Prediction:
        strokes = self._done + ([] if self._open is None else [self._open])
        allpts = np.concatenate(strokes)
        if not np.any(allpts != allpts[0]):
            return []  # a single spot so far: nothing to recognize yet
        raw = self.raw if self.raw is not None else not looks_simplified(strokes)
        if raw:
            try:
                offset, scale = frame_of(strokes)
            except BadInputError:
                return []  # all points within rounding of one spot
            check_ink(strokes, scale)
            drawing = to_quickdraw(self._simplified(offset, scale))
        else:
            drawing = to_quickdraw(strokes)
        rec = self.recognizer
        self._probabilities = rec.probabilities(drawing)
        return rec.rank(self._probabilities, self.top_k)

    def _simplified(self, offset: np.ndarray, scale: float) -> list[np.ndarray]:
        frame = (float(offset[0]), float(offset[1]), float(scale))
        if frame != self._frame:
            self._frame, self._cache = frame, {}
        out = []
        for i, s in enumerate(self._done):
            if i not in self._cache:
                self._cache[i] = simplify_stroke(s, offset, scale)
            out.append(self._cache[i])
        if self._open is not None:
            out.append(simplify_stroke(self._open, offset, scale))
        return out
