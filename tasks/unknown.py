"""How well a recognizer says "unknown": the threshold and the open-set figures (NumPy only).

The score of a drawing is its top-1 probability; a drawing is *known* when the score is at least
the bundle's threshold (``SketchRecognizer.recognize``). The threshold is chosen on known
validation drawings alone -- the score that keeps a given share of them (95 % by default) -- so it
needs no outlier data and means the same for every vocabulary. The figures:

* ``auroc``: the chance that a known drawing scores above an unknown one (threshold-free);
* ``fpr95``: unknown drawings accepted at the score that keeps 95 % of known ones (threshold-free);
* at the chosen threshold: known drawings kept, known top-1 among all (an unknown answer counts
  as wrong) and among those kept, unknown drawings accepted, and the unknown categories accepted
  most often.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

import numpy as np

from inkcast.runtime.errors import OptionsError

DEFAULT_KNOWN_KEPT = 0.95  # known validation drawings the default threshold keeps
SCORE = "top1_probability"


def scores_of(probs: np.ndarray) -> np.ndarray:
    """The unknown-detection score of each row of probabilities: its top-1 probability."""
    return np.asarray(probs, dtype=np.float64).max(axis=1) if len(probs) else np.zeros(0)


def threshold_keeping(known_scores: np.ndarray, kept: float = DEFAULT_KNOWN_KEPT) -> float:
    """The largest threshold that keeps at least ``kept`` of ``known_scores`` (score >= threshold)."""
    if not 0 < kept <= 1:
        raise OptionsError(f"the share of known drawings kept must be in (0, 1], got {kept}")
    s = np.sort(np.asarray(known_scores, dtype=np.float64))
    if not len(s):
        raise ValueError("no known drawings to choose a threshold on")
    # keep ceil(kept * n) drawings: the threshold is the score of the lowest of them
    i = len(s) - int(np.ceil(kept * len(s) - 1e-9))
    return float(s[max(i, 0)])


def auroc(known_scores: np.ndarray, unknown_scores: np.ndarray) -> float:
    """P(a known score > an unknown score) + 0.5 P(tie): the Mann-Whitney statistic over n1 n2.

    Written here (a few lines of ranks) because the runtime-only install that runs ``inkcast
    evaluate`` has NumPy but neither scikit-learn nor SciPy."""
    k, u = np.asarray(known_scores, np.float64), np.asarray(unknown_scores, np.float64)
    both = np.concatenate([k, u])
    order = np.argsort(both, kind="stable")
    ranks = np.empty(len(both))
    ranks[order] = np.arange(1, len(both) + 1)
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)  # average rank within each group of ties
    ranks = (sums / counts)[inverse]
    return float((ranks[: len(k)].sum() - len(k) * (len(k) + 1) / 2) / (len(k) * len(u)))


def open_set_metrics(known_scores: np.ndarray, known_right: np.ndarray, unknown_probs: np.ndarray,
                     unknown_categories: Sequence[str], threshold: float, labels: Sequence[str],
                     most: int = 5) -> dict[str, Any]:
    """Every open-set figure of one model at ``threshold``, from the known drawings' scores and
    whether their top-1 was right, and the unknown drawings' probabilities and categories."""
    ks, us = np.asarray(known_scores, np.float64), scores_of(unknown_probs)
    right = np.asarray(known_right, bool)
    kept = ks >= threshold
    accepted = us >= threshold
    answered = Counter(labels[i] for i in np.asarray(unknown_probs).argmax(1)[accepted]) if len(us) else Counter()
    per_cat = Counter(np.asarray(unknown_categories)[accepted].tolist())
    totals = Counter(list(unknown_categories))
    worst = sorted(per_cat, key=lambda c: (-per_cat[c] / totals[c], c))[:most]
    return {
        "score": SCORE,
        "threshold": float(threshold),
        "auroc": auroc(ks, us),
        "fpr95": float((us >= threshold_keeping(ks, 0.95)).mean()),
        "known_drawings": int(len(ks)),
        "unknown_drawings": int(len(us)),
        "unknown_categories": int(len(totals)),
        "known_top1": float(right.mean()),
        "known_kept": float(kept.mean()),
        "known_top1_at_threshold": float((right & kept).mean()),  # "unknown" counts as wrong
        "known_top1_of_kept": float(right[kept].mean()) if kept.any() else None,
        "unknown_accepted": float(accepted.mean()),
        "unknown_accepted_as": dict(answered.most_common(most)),
        "unknown_accepted_most": [{"category": c, "accepted": per_cat[c], "drawings": totals[c]} for c in worst],
    }


def summary_line(m: dict[str, Any]) -> str:
    """One line of the open-set figures for logs and tables."""
    return (f"AUROC {m['auroc']:.4f}, FPR95 {100 * m['fpr95']:.1f} %; at threshold {m['threshold']:.4f}: "
            f"known kept {100 * m['known_kept']:.1f} %, unknown accepted {100 * m['unknown_accepted']:.1f} % "
            f"({m['unknown_drawings']} drawings of {m['unknown_categories']} categories)")
