"""Summaries of timing samples: percentiles over all samples, and the spread between rounds.

Every timed figure is measured in several *rounds* (see ``latency.py``). The percentiles pool the
samples of all rounds; the noise is shown as the min-max of the per-round medians, and ratios
between two configurations are taken per round (both measured minutes apart at most, with the
same inputs) and then summarized by their median over rounds, which a few disturbed rounds on a
shared machine cannot move much.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


def summarize(samples_ns: Iterable[float], rounds: Sequence[Sequence[float]] | None = None) -> dict:
    """Percentiles, mean and std (milliseconds) of timing samples given in nanoseconds.

    ``rounds``: the same samples grouped by round; adds each round's median and their min-max.
    """
    a = np.asarray(list(samples_ns), dtype=np.float64) / 1e6
    if a.size == 0:
        return {"n": 0}
    out = {
        "n": int(a.size),
        "p1_ms": float(np.percentile(a, 1)),
        "p25_ms": float(np.percentile(a, 25)),
        "p50_ms": float(np.percentile(a, 50)),
        "p75_ms": float(np.percentile(a, 75)),
        "p90_ms": float(np.percentile(a, 90)),
        "p99_ms": float(np.percentile(a, 99)),
        "mean_ms": float(a.mean()),
        "std_ms": float(a.std(ddof=1)) if a.size > 1 else 0.0,
        "min_ms": float(a.min()),
        "max_ms": float(a.max()),
    }
    if rounds:
        med = [float(np.median(np.asarray(r, dtype=np.float64))) / 1e6 for r in rounds if len(r)]
        out["round_p50_ms"] = med
        out["p50_spread_ms"] = [min(med), max(med)]
    return out


def ratio_over_rounds(num_rounds: Sequence[Sequence[float]], den_rounds: Sequence[Sequence[float]]) -> dict:
    """Median over rounds of (median of num in round r) / (median of den in round r), with min-max."""
    ratios = []
    for a, b in zip(num_rounds, den_rounds):
        if len(a) and len(b):
            ratios.append(float(np.median(a)) / float(np.median(b)))
    if not ratios:
        return {"value": None, "min": None, "max": None, "rounds": 0}
    return {"value": float(np.median(ratios)), "min": float(min(ratios)), "max": float(max(ratios)),
            "p25": float(np.percentile(ratios, 25)), "rounds": len(ratios), "per_round": ratios}


def by_length(lengths: Sequence[int], samples_ns: Sequence[float], edges: Sequence[int]) -> list[dict]:
    """Latency per input-length bucket: ``edges`` [0, 16, 32, ...] give buckets (e0, e1], (e1, e2], ..."""
    L = np.asarray(lengths)
    t = np.asarray(samples_ns, dtype=np.float64) / 1e6
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (L > lo) & (L <= hi)
        if not m.any():
            out.append({"lengths": [int(lo) + 1, int(hi)], "n": 0})
            continue
        out.append({"lengths": [int(lo) + 1, int(hi)], "n": int(m.sum()),
                    "p50_ms": float(np.percentile(t[m], 50)), "p90_ms": float(np.percentile(t[m], 90)),
                    "mean_ms": float(t[m].mean())})
    return out


def median_spread(values: Sequence[float]) -> dict:
    """Median and min-max of a few repeated measurements (cold start, peak memory)."""
    a = np.asarray(values, dtype=np.float64)
    return {"median": float(np.median(a)), "min": float(a.min()), "max": float(a.max()), "n": int(a.size)}
