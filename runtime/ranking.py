"""Turning a probability vector into the top-k (label, probability) answer, and checking ``top_k``.

One definition for ``predict``, ``predict_batch`` and streams, so they rank and refuse alike."""

from __future__ import annotations

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
