"""Turning a probability vector into the answer: the top-k (label, probability) list, and the
recognized label or "unknown" (``Recognition``), and checking ``top_k``.

One definition for ``predict``, ``recognize``, ``predict_batch`` and streams, so they rank, reject
and refuse alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .errors import BadInputError

Prediction = list[tuple[str, float]]


def check_top_k(top_k: Any) -> int:
    """``top_k`` itself if it is a positive integer (``True`` is not one); else BadInputError."""
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise BadInputError(f"top_k must be a positive integer, got {top_k!r}")
    return int(top_k)


def rank(probabilities: np.ndarray, labels: Sequence[str], top_k: int) -> Prediction:
    """The ``top_k`` most likely labels, best first; ties keep label order (a stable sort)."""
    k = check_top_k(top_k)
    order = np.argsort(-probabilities, kind="stable")[: min(k, len(probabilities))]
    return [(labels[i], float(probabilities[i])) for i in order]


@dataclass(frozen=True)
class Recognition:
    """A drawing's answer with "I don't know": ``label`` is the top-1 label when its probability
    (``score``) is at least the bundle's ``threshold``, else None (``known`` False); ``top_k`` is
    what ``predict`` returns either way. A bundle without a threshold (made before inkcast 0.2)
    has ``threshold`` None and always answers its top-1."""

    label: str | None
    known: bool
    score: float
    threshold: float | None
    top_k: Prediction

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape ``inkcast serve`` answers with (``top_k`` as [label, p] pairs)."""
        return {"label": self.label, "known": self.known, "score": self.score, "threshold": self.threshold,
                "top_k": [[lab, p] for lab, p in self.top_k]}


def recognition(probabilities: np.ndarray, labels: Sequence[str], top_k: int, threshold: float | None) -> Recognition:
    """The ``Recognition`` of a probability vector: known when its top-1 probability >= threshold."""
    top = rank(probabilities, labels, top_k)
    score = float(np.max(probabilities))
    known = threshold is None or score >= threshold
    return Recognition(top[0][0] if known else None, known, score, threshold, top)
