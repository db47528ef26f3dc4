"""Ragged model rows (one (length_i, F) array per item) saved compactly as .npz, atomically.

A run folder keeps its test split and calibration sample this way, so export and bench read the
exact model inputs training produced."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .files import atomic_open


def save_rows(path: str | Path, rows: Sequence[np.ndarray], labels: np.ndarray, key_ids: Sequence[str]) -> None:
    """Concatenated rows + offsets, labels and key_ids; written to a temporary name, then renamed."""
    offsets = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
    data = np.concatenate(rows).astype(np.float32) if len(rows) else np.zeros((0, 3), np.float32)
    with atomic_open(path, "wb", suffix=".npz") as f:
        np.savez_compressed(f, rows=data, offsets=offsets, labels=np.asarray(labels, np.int64),
                            key_ids=np.asarray(list(key_ids), dtype=str))


def load_rows(path: str | Path) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """The inverse of ``save_rows``: (rows, labels, key_ids)."""
    with np.load(path) as z:
        off, data = z["offsets"], z["rows"]
        rows = [data[off[i] : off[i + 1]] for i in range(len(off) - 1)]
        return rows, z["labels"], [str(k) for k in z["key_ids"]]
