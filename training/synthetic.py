"""A small built-in generator of Quick, Draw!-format drawings, for running without downloads.

Five shape categories drawn with human-like jitter (wobbly radius, uneven sampling, overshoot,
random rotation and stretch), written as ``<category>.ndjson`` exactly like Google's files, so
the very same reader and pipeline run on them. It is for demos and smoke runs, not for accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CATEGORIES = ("circle", "square", "triangle", "zigzag", "spiral")


def _polyline(corners: np.ndarray, rng: np.random.Generator, per_side: int) -> np.ndarray:
    out = []
    for a, b in zip(corners[:-1], corners[1:]):
        t = np.sort(rng.uniform(0, 1, per_side))
        out.append(a + (b - a) * t[:, None])
    return np.concatenate(out)


def _shape(category: str, rng: np.random.Generator) -> list[np.ndarray]:
    """One drawing as a list of (n, 2) float strokes in a unit-ish box."""
    if category == "circle":
        n = rng.integers(14, 30)
        t = np.linspace(0, 2 * np.pi * rng.uniform(1.0, 1.12), n) + rng.uniform(0, 2 * np.pi)
        r = 1 + 0.06 * rng.standard_normal(n).cumsum() / np.sqrt(n)
        strokes = [np.stack([r * np.cos(t), r * np.sin(t)], 1)]
    elif category == "square":
        c = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], float)
        strokes = [_polyline(c, rng, int(rng.integers(3, 7)))]
    elif category == "triangle":
        c = np.array([[0, 1], [0.5, 0], [1, 1], [0, 1]], float)
        strokes = [_polyline(c, rng, int(rng.integers(3, 7)))]
    elif category == "zigzag":
        k = int(rng.integers(3, 6))
        c = np.stack([np.linspace(0, 1, 2 * k + 1), np.tile([0.0, 1.0], k + 1)[: 2 * k + 1]], 1)
        strokes = [_polyline(c, rng, 2)]
    elif category == "spiral":
        n = rng.integers(25, 45)
        t = np.linspace(0, 2 * np.pi * rng.uniform(2.0, 3.0), n)
        r = t / t[-1]
        strokes = [np.stack([r * np.cos(t), r * np.sin(t)], 1)]
    else:
        raise ValueError(f"unknown synthetic category {category!r}; known: {CATEGORIES}")
    theta = rng.normal(0, 0.15)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    stretch = np.diag(rng.uniform(0.7, 1.3, 2))
    return [s @ rot.T @ stretch + rng.normal(0, 0.02, s.shape) for s in strokes]


def _to_quickdraw(strokes: list[np.ndarray]) -> list[list[list[int]]]:
    """Align to the top-left and scale to 0..255 keeping the aspect ratio, like Google's files."""
    allp = np.concatenate(strokes)
    lo = allp.min(0)
    scale = 255.0 / max(float((allp - lo).max()), 1e-9)
    out = []
    for s in strokes:
        q = np.round((s - lo) * scale).astype(int)
        keep = np.ones(len(q), bool)
        keep[1:] = np.any(q[1:] != q[:-1], axis=1)
        q = q[keep]
        out.append([q[:, 0].tolist(), q[:, 1].tolist()])
    return out


def write_synthetic_quickdraw(folder: str | Path, per_category: int = 600, seed: int = 0) -> Path:
    """Write ``<category>.ndjson`` files of synthetic drawings into ``folder``; returns it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for ci, cat in enumerate(CATEGORIES):
        lines = []
        for i in range(per_category):
            rec = {"word": cat, "countrycode": "ZZ", "timestamp": "synthetic", "recognized": True,
                   "key_id": f"{seed:04d}{ci:02d}{i:08d}", "drawing": _to_quickdraw(_shape(cat, rng))}
            lines.append(json.dumps(rec, separators=(",", ":")))
        tmp = folder / f".{cat}.ndjson.tmp"
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(folder / f"{cat}.ndjson")
    return folder
