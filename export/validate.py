"""Checking an exported file against the Keras model: run it through the runtime, compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from inkcast.runtime.backends import open_model
from inkcast.runtime.errors import InkcastError
from inkcast.runtime.sketch_preprocess import pad_left


class ExportValidationError(InkcastError):
    """An exported file disagrees with the Keras model beyond the tolerance; nothing is written."""


def run_rows(path: str | Path, backend: str, rows: Sequence[np.ndarray],
             quantization: dict[str, Any] | None = None, num_threads: int | None = None) -> np.ndarray:
    """Outputs of a model file for ragged (length_i, F) rows, each run at its own length.

    Rows of equal length share one batch (the ONNX graphs take any batch; TFLite loops)."""
    model = open_model(path, backend, num_threads, quantization)
    out: np.ndarray | None = None
    by_len: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        by_len.setdefault(len(r), []).append(i)
    for _, idx in sorted(by_len.items()):
        y = model.run(pad_left([rows[i] for i in idx]) if rows[0].ndim == 2 and rows[0].shape[-1] == 3
                      else np.stack([rows[i] for i in idx]))
        if out is None:
            out = np.zeros((len(rows),) + y.shape[1:], np.float32)
        out[idx] = y
    assert out is not None
    return out


def topk_accuracy(probs: np.ndarray, y: np.ndarray, k: int) -> float:
    topk = np.argsort(-probs, axis=1)[:, :k]
    return float((topk == y[:, None]).any(1).mean())


def compare_classifier(probs: np.ndarray, reference: np.ndarray, y: np.ndarray,
                       tie_margin: float = 0.0) -> dict[str, float]:
    """Top-1/top-3 of a variant, its top-1 agreement with the reference, and how far its
    probabilities are from the reference's: the largest difference, and the 99th percentile of
    each drawing's largest difference.

    ``agreement_beyond_ties`` also counts as agreeing a drawing whose differing top-1 the reference
    itself scores within ``tie_margin`` of its own top-1: a near-tie that any change of summation
    order may flip (seen: 0.37975 vs 0.37985 in Keras, flipped by the fused TFLite LSTM)."""
    per_drawing = np.abs(probs - reference).max(axis=1)
    chosen = probs.argmax(1)
    same = chosen == reference.argmax(1)
    tie = reference[np.arange(len(chosen)), chosen] >= reference.max(1) - tie_margin
    return {
        "top1": topk_accuracy(probs, y, 1),
        "top3": topk_accuracy(probs, y, 3),
        "agreement": float(same.mean()),
        "agreement_beyond_ties": float((same | tie).mean()),
        "tie_margin": tie_margin,
        "max_probability_difference": float(per_drawing.max()),
        "p99_probability_difference": float(np.percentile(per_drawing, 99)),
    }
