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


def with_outliers(train_pools: Callable[[int], Iterator[Pool]], outliers: OutlierSplit, share: float,
                  label: int, seed: int) -> Callable[[int], Iterator[Pool]]:
    """``train_pools`` with ``share`` outlier drawings per known one appended to each pool, drawn
    in turn from shuffled passes over the outliers (so each is shown about equally often), from a
    generator seeded by (seed, epoch) alone: a resumed run gets the same pools."""

    def pools(epoch: int) -> Iterator[Pool]:
        rng = np.random.default_rng([seed, epoch, 3])
        for pool in train_pools(epoch):
            n = outlier_count(len(pool), share)
            passes = -(-n // len(outliers))
            idx = np.concatenate([rng.permutation(len(outliers)) for _ in range(passes)])[:n] if n else []
            yield Pool(list(pool.points) + [outliers.points[i] for i in idx],
                       list(pool.features) + [outliers.features[i] for i in idx],
                       np.concatenate([np.asarray(pool.labels), np.full(n, label, np.int64)]),
                       list(pool.key_ids) + [outliers.key_ids[i] for i in idx])

    return pools
