"""Open-set training: outlier drawings mixed into the training pools, and the loss that uses them.

Outlier exposure (Hendrycks, Mazeika & Dietterich, ICLR 2019) adds to the usual cross-entropy on
known drawings ``outlier_weight`` times the cross-entropy between the softmax and the uniform
distribution on outlier drawings, so the model learns to spread its belief over the labels when a
drawing is none of them: the top-1 probability becomes a good "unknown" score, and the exported
model keeps exactly its outputs. The background-class alternative labels outliers as one more
class. Outliers carry the label ``OUTLIER`` (-1) for outlier exposure, ``len(labels)`` for the
background class.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from inkcast.data.outliers import OutlierSplit

from .sketch_data import Pool
from .tf_env import tf

OUTLIER = -1


def outlier_exposure_loss(weight: float) -> Callable:
    """Sparse cross-entropy on known rows (label >= 0) and ``weight`` x cross-entropy to the
    uniform distribution on outlier rows (label -1), averaged over the batch."""

    def loss(y_true, y_pred):
        y = tf.cast(tf.reshape(y_true, [-1]), tf.int32)
        logp = tf.math.log(tf.clip_by_value(y_pred, 1e-7, 1.0))
        known = y >= 0
        ce = -tf.gather(logp, tf.maximum(y, 0), axis=1, batch_dims=1)
        uniform = -tf.reduce_mean(logp, axis=-1)
        return tf.where(known, ce, weight * uniform)

    loss.__name__ = "outlier_exposure_loss"
    return loss


def known_accuracy(y_true, y_pred):
    """Top-1 accuracy where the label is a known class; outlier rows (label -1) count as right,
    so the training figure stays comparable with a run without outliers."""
    y = tf.cast(tf.reshape(y_true, [-1]), tf.int64)
    hit = tf.equal(tf.argmax(y_pred, axis=-1), y)
    return tf.cast(tf.logical_or(hit, y < 0), tf.float32)


def outlier_count(n: int, share: float) -> int:
    """Outlier drawings added to a training pool of n known drawings."""
    return int(round(n * share))


def strokes_of(points: np.ndarray) -> list[np.ndarray]:
    """(n, 3) absolute points -> one (m, 3) array per stroke (the last row of each has flag 1)."""
    ends = np.flatnonzero(points[:, 2] == 1) + 1
    return [s for s in np.split(points, ends) if len(s)]


def chimera(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A drawing of no category: a random part of drawing ``a``'s strokes, mirrored and turned at
    random, with a random part of ``b``'s strokes, shrunk and placed somewhere on it.

    A small outlier pool shows the model a few dozen shapes per category; recombining their
    strokes (and known drawings' strokes: parts of a candle on a star) multiplies the shapes it
    learns to call unknown (docs/RESULTS.md, "Open set")."""
    out = []
    for pts, scale in ((a, 1.0), (b, rng.uniform(0.3, 0.8))):
        strokes = strokes_of(pts)
        keep = rng.random(len(strokes)) < rng.uniform(0.4, 1.0)
        keep[rng.integers(len(strokes))] = True
        p = np.concatenate([s for s, k in zip(strokes, keep) if k]).astype(np.float64)
        xy = p[:, :2] - p[:, :2].min(0)
        if rng.random() < 0.5:
            xy[:, 0] = xy[:, 0].max() - xy[:, 0]
        t = rng.uniform(-np.pi, np.pi)
        c, s_ = np.cos(t), np.sin(t)
        xy = xy @ np.array([[c, -s_], [s_, c]]).T
        xy -= xy.min(0)
        xy *= scale * 255.0 / max(float(xy.max()), 1e-9)
        xy += rng.uniform(0, 255.0 * (1 - scale), 2) if scale < 1 else 0.0
        p[:, :2] = xy
        out.append(p)
    return np.concatenate(out)


def with_outliers(train_pools: Callable[[int], Iterator[Pool]], outliers: OutlierSplit, share: float,
                  label: int, seed: int, spacing: float | None, mix: float = 0.0,
                  known_share: float = 0.0) -> Callable[[int], Iterator[Pool]]:
    """``train_pools`` with ``share`` outlier drawings per known one appended to each pool, drawn
    in turn from shuffled passes over the outliers (so each is shown about equally often), from a
    generator seeded by (seed, epoch) alone: a resumed run gets the same pools. A share ``mix`` of
    them is a ``chimera`` of two outlier drawings; ``known_share`` more per known drawing are
    chimeras of two known drawings of different labels."""
    from inkcast.runtime.errors import BadInputError
    from inkcast.runtime.sketch_preprocess import MAX_POINTS, points_to_features

    def made(pts: np.ndarray, fallback: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        try:
            return pts, points_to_features(pts, MAX_POINTS, spacing)
        except BadInputError:  # a degenerate recombination: the plain drawing instead
            return fallback, points_to_features(fallback, MAX_POINTS, spacing)

    def pools(epoch: int) -> Iterator[Pool]:
        rng = np.random.default_rng([seed, epoch, 3])
        for pool in train_pools(epoch):
            n = outlier_count(len(pool), share)
            passes = -(-n // len(outliers))
            idx = np.concatenate([rng.permutation(len(outliers)) for _ in range(passes)])[:n] if n else []
            points = [outliers.points[i] for i in idx]
            features = [outliers.features[i] for i in idx]
            keys = [outliers.key_ids[i] for i in idx]
            for j in np.flatnonzero(rng.random(n) < mix):
                other = outliers.points[rng.integers(len(outliers))]
                points[j], features[j] = made(chimera(points[j], other, rng), points[j])
                keys[j] = "mix:" + keys[j]
            m = outlier_count(len(pool), known_share)
            labels = np.asarray(pool.labels)
            for _ in range(m):
                a, b = rng.integers(len(pool), size=2)
                if labels[a] == labels[b]:
                    b = rng.choice(np.flatnonzero(labels != labels[a])) if (labels != labels[a]).any() else b
                pts, feats = made(chimera(pool.points[a], pool.points[b], rng), outliers.points[rng.integers(len(outliers))])
                points.append(pts)
                features.append(feats)
                keys.append(f"mix:{pool.key_ids[a]}+{pool.key_ids[b]}")
            yield Pool(list(pool.points) + points, list(pool.features) + features,
                       np.concatenate([labels, np.full(n + m, label, np.int64)]), list(pool.key_ids) + keys)

    return pools
