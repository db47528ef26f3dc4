"""Turn Google-simplified drawings back into something like raw touch input (tests, benchmarks).

A phone reports a drawing in screen pixels, at its own position on the screen, with a point every
few pixels and some sensor noise. ``rawify`` imitates that from a simplified drawing: scale it up
to a ~1080x2000 screen at a random place, put a point every ~3 px along each segment, add +-2 px
of jitter, and give every point a timestamp. Seeded, so a test sees the same input every run.
"""

from __future__ import annotations

import numpy as np

SCREEN = (1080.0, 2000.0)


def rawify(drawing, rng: np.random.Generator, spacing: float = 3.0, jitter: float = 2.0,
           layout: str = "points"):
    """A simplified ``drawing`` -> raw-like strokes in ``layout`` ("points": [(x, y, t), ...];
    "strokes": [[x...], [y...], [t...]]), as floats in screen pixels."""
    strokes = [np.asarray(s[:2], dtype=np.float64).T for s in drawing]
    scale = rng.uniform(3.0, 4.0)  # 255 px -> 765..1020 px: most of a phone screen's width
    offset = np.array([rng.uniform(0, SCREEN[0] - 255 * scale), rng.uniform(0, SCREEN[1] - 255 * scale)])
    out, t0 = [], 0.0
    for s in strokes:
        q = s * scale + offset
        pieces = [q[:1]]
        for a, b in zip(q[:-1], q[1:]):
            n = max(1, int(np.ceil(np.hypot(*(b - a)) / spacing)))
            pieces.append(a + (np.arange(1, n + 1) / n)[:, None] * (b - a))
        q = np.concatenate(pieces)
        q = q + rng.uniform(-jitter, jitter, size=q.shape)
        t = t0 + 8.0 * np.arange(len(q))  # a sample every 8 ms
        t0 = t[-1] + 300.0
        if layout == "points":
            out.append([(float(x), float(y), float(tt)) for (x, y), tt in zip(q, t)])
        else:
            out.append([q[:, 0].tolist(), q[:, 1].tolist(), t.tolist()])
    return out
