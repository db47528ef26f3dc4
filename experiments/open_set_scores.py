"""Two more "unknown" scores on one run folder, from its Keras model (docs/RESULTS.md, "I don't know"):

- the top-1 probability at output temperatures T (softmax(logits / T)), as computed and as an int8
  output carries it (rounded to steps of 1/256): why export tempers the probabilities;
- a feature-space score: minus the smallest Mahalanobis distance of the LSTM's output to a known
  category's mean, with one shared covariance fitted on the run's training sample (Lee et al.,
  NeurIPS 2018), alone and added to the top-1 probability (each standardised on known validation).

AUROC over known and unknown drawings; FPR95: the unknown drawings accepted at the score that
keeps 95 % of the known ones of the same split (validation: known validation drawings and the
validation outlier categories; test: known test drawings and the test ones).

    python -m experiments.open_set_scores runs/sketch [--outliers ../shared/data/quickdraw-raw/simplified]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from inkcast.data.outliers import load_outliers
from inkcast.data.rows import load_rows
from inkcast.tasks.unknown import auroc
from inkcast.training.train_sketch import predict_rows

from .open_set import DEFAULT_OUTLIERS, logits_model

TEMPERATURES = (1, 2, 4, 8)
INT8_STEP = 1 / 256  # an int8 softmax output's resolution


def top1(logits: np.ndarray, temperature: float, int8: bool) -> np.ndarray:
    z = logits / temperature
    p = np.exp(z - z.max(1, keepdims=True))
    s = (p / p.sum(1, keepdims=True)).max(1)
    return np.round(s / INT8_STEP) * INT8_STEP if int8 else s


def figures(known: np.ndarray, unknown: np.ndarray) -> str:
    fpr95 = float((unknown >= np.quantile(known, 0.05)).mean())
    return f"{auroc(known, unknown):.4f} | {100 * fpr95:.1f} %"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", type=Path)
    p.add_argument("--outliers", action="append", help=f"outlier folders (default {DEFAULT_OUTLIERS})")
    a = p.parse_args(argv)
    _, (hidden, w, b), labels, o, _ = logits_model(a.run)
    k = len(labels)
    out = load_outliers(a.outliers or [DEFAULT_OUTLIERS], labels, o.outlier_max_per_category, o.resample_spacing)
    feats = {}
    for name in ("calibration", "validation_split", "test_split"):
        rows, y, _ = load_rows(a.run / f"{name}.npz")
        feats[name] = (predict_rows(hidden, rows).astype(np.float64), np.asarray(y))
    for role in ("validation", "test"):
        feats[role] = (predict_rows(hidden, out[role].features).astype(np.float64), None)
    split = {"validation": ("validation_split", "validation"), "test": ("test_split", "test")}

    print("| score | AUROC (val) | FPR95 (val) | AUROC (test) | FPR95 (test) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for t in TEMPERATURES:
        for int8 in (False, True):
            cells = [figures(top1(feats[kn][0] @ w + b, t, int8), top1(feats[un][0] @ w + b, t, int8))
                     for kn, un in split.values()]
            print(f"| top-1 probability, T = {t}{', int8 steps' if int8 else ''} | {' | '.join(cells)} |")

    h, y = feats["calibration"]  # the run's training sample: class means and one shared covariance
    means = np.stack([h[y == c].mean(0) for c in range(k)])
    centred = h - means[y]
    precision = np.linalg.inv(centred.T @ centred / len(h) + 1e-3 * np.eye(h.shape[1]))

    def mahalanobis(x: np.ndarray) -> np.ndarray:
        d = np.stack([np.einsum("ij,jk,ik->i", x - m, precision, x - m) for m in means], 1)
        return -d.min(1)

    def standardised(score, ref):
        on_ref = score(ref)  # once: the known validation drawings' mean and spread
        return lambda x: (score(x) - on_ref.mean()) / on_ref.std()

    msp = lambda x: top1(x @ w + b, 1, False)  # noqa: E731
    ref = feats["validation_split"][0]
    msp_z, mahalanobis_z = standardised(msp, ref), standardised(mahalanobis, ref)
    both = lambda x: msp_z(x) + mahalanobis_z(x)  # noqa: E731
    for name, score in (("Mahalanobis distance (LSTM output)", mahalanobis), ("top-1 probability + Mahalanobis", both)):
        cells = [figures(score(feats[kn][0]), score(feats[un][0])) for kn, un in split.values()]
        print(f"| {name} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
