"""Train the sketch recognizer on a Quick, Draw! folder and write a run folder.

RUN_DIR gets: ``model.weights.h5`` (best weights), ``options.json`` (labels + exact options, so
export can rebuild the network), ``metrics.json``, ``report.md`` + ``confusion.png`` (top-k, per
category, the most confused pairs: ``sketch_report``), ``test_split.npz`` (the preprocessed test
split export validates against) and ``calibration.npz`` (training drawings for quantization).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from inkcast.data.quickdraw import SketchDataset
from inkcast.data.files import write_json_atomic
from inkcast.data.rows import save_rows
from inkcast.runtime.errors import BadInputError
from inkcast.runtime.sketch_preprocess import MAX_POINTS, pad_left, points_to_features
from inkcast.tasks.unknown import SCORE, open_set_metrics, scores_of, summary_line, threshold_keeping

from . import checkpoints
from .checkpoints import save_weights_atomic
from .distributed import Cluster, cluster_from_env, make_strategy, steps_per_worker
from .open_set import OUTLIER, known_accuracy, outlier_exposure_loss, with_outliers
from .progress import EpochProgress, EpochTimer
from .schedule import plan_schedule
from .sketch_data import InMemorySketchData, Pool, StreamingSketchData, open_sketch_data
from .sketch_model import build_sketch_model
from .sketch_options import FINAL_RATE_SHARE, UNKNOWN_METHODS, SketchTrainOptions
from .sketch_report import write_report
from .tf_env import keras, tf


def augment_points(points: np.ndarray, rng: np.random.Generator, rotate_degrees: float,
                   shear: float, drop_points: float = 0.0) -> np.ndarray:
    """A random rotation and shear of a drawing's absolute points (pen flags unchanged), and the
    loss of a random share (up to ``drop_points``) of interior stroke points.

    Dropping points mimics what Ramer-Douglas-Peucker does to a slightly different input: the
    same shape with a borderline point kept or merged. Raw touch input simplified on the device
    differs from Google's files in exactly that way."""
    theta = math.radians(rng.uniform(-rotate_degrees, rotate_degrees))
    c, s = math.cos(theta), math.sin(theta)
    sh = rng.uniform(-shear, shear, 2)
    m = np.array([[c, -s], [s, c]]) @ np.array([[1.0, sh[0]], [sh[1], 1.0]])
    out = points.copy()
    out[:, :2] = points[:, :2] @ m.T
    if drop_points > 0 and len(out) > 4:
        ends = out[:, 2] == 1
        starts = np.r_[True, ends[:-1]]
        interior = ~(ends | starts)
        drop = interior & (rng.random(len(out)) < rng.uniform(0, drop_points))
        out = out[~drop]
    return out


class BucketedBatches:
    """Training batches made of length buckets, left-padded to the batch's longest.

    A bucket is ``options.bucket_size`` drawings of similar length; a batch is ``batch_size /
    bucket_size`` buckets drawn at random. Grouping by length keeps padding (and so compute) small
    -- the model is padding-invariant, so this changes speed, not answers -- but a batch of one
    bucket holds drawings of one length, and length goes with category: its gradient is biased,
    and early training learned 10 points less in 3 epochs than with two buckets a batch (which
    is what two workers of 32 each gave: docs/RESULTS.md, "One worker or two"). A fixed bucket
    size makes a global batch the same mix whatever the number of workers: each worker's batch is
    its share of the buckets. The drawings come in pools (``sketch_data``: one pool per split in
    memory, or pools streamed from a prepared dataset); training batches are cut from each pool,
    shuffled and augmented anew each epoch from a generator seeded by (seed, epoch) alone, so
    epoch k gets the same batches in a run resumed at epoch k as in one that never stopped.
    Evaluation batches go shortest first within each pool.
    """

    def __init__(self, pools: Callable[[int], Iterator[Pool]], batch_size: int, options: SketchTrainOptions,
                 train: bool, seed: int | tuple[int, ...] = 0):
        self.pools, self.batch_size, self.o, self.train, self.seed = pools, batch_size, options, train, seed
        self.bucket = min(options.bucket_size or batch_size, batch_size)

    def epoch(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The (x, y) batches of one epoch."""
        if not self.train:  # shortest first: little padding, and the mean over the split is the same
            for pool in self.pools(0):
                order = np.argsort([len(f) for f in pool.features], kind="stable")
                for i in range(0, len(pool), self.batch_size):
                    idx = order[i : i + self.batch_size]
                    yield pad_left([pool.features[j] for j in idx]), pool.labels[idx]
            return
        rng = np.random.default_rng([*np.atleast_1d(self.seed).tolist(), epoch])
        for pool in self.pools(epoch):
            n = len(pool)
            noisy = np.array([len(f) for f in pool.features]) + rng.uniform(0, 8, n)  # similar, not identical, lengths mix
            order = np.argsort(noisy, kind="stable")
            buckets = [order[i : i + self.bucket] for i in range(0, n, self.bucket)]
            per = self.batch_size // self.bucket
            mixed = rng.permutation(len(buckets))
            for k in range(0, len(mixed), per):
                idx = np.concatenate([buckets[b] for b in mixed[k : k + per]])
                yield pad_left([self._row(pool, j, rng) for j in idx]), pool.labels[idx]

    def _row(self, pool: Pool, j: int, rng: np.random.Generator) -> np.ndarray:
        if not self.o.augment:
            return pool.features[j]
        try:
            pts = augment_points(pool.points[j], rng, self.o.rotate_degrees, self.o.shear, self.o.drop_points)
            return points_to_features(pts, MAX_POINTS, self.o.resample_spacing)
        except ValueError:  # augmentation made it degenerate: the drawing as it is
            return pool.features[j]

    def dataset(self, first_epoch: int = 0, max_batches: int | None = None,
                repeat: bool = False) -> "tf.data.Dataset":
        """A ``tf.data`` pipeline of these batches, one pass per epoch from ``first_epoch`` on.

        The batches are made by a Python generator in tf.data's own thread and prefetched, so
        augmentation overlaps the model's steps; the element shape's free time axis means Keras
        traces its train step once instead of once per batch length. ``max_batches`` ends each
        pass early and ``repeat`` makes the passes endless: training runs an epoch as a fixed count
        of steps (the same on every worker of a cluster) on one iterator that lasts the run."""
        counter = iter(range(first_epoch, 1 << 30))

        def generate():
            batches = self.epoch(next(counter) if self.train else 0)
            yield from (batches if max_batches is None else itertools.islice(batches, max_batches))

        spec = (tf.TensorSpec((None, None, 3), tf.float32), tf.TensorSpec((None,), tf.int64))
        ds = tf.data.Dataset.from_generator(generate, output_signature=spec)
        return (ds.repeat() if repeat else ds).prefetch(2)


class TimeLimit(keras.callbacks.Callback):
    """Stop before an epoch that would end past the time budget (judged by the slowest so far)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.start, self.slowest = seconds, time.monotonic(), 0.0
        self.epoch_start = self.start

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        now = time.monotonic()
        self.slowest = max(self.slowest, now - self.epoch_start)
        if now - self.start + self.slowest > self.seconds:
            print(f"stopping after epoch {epoch + 1}: another epoch (~{self.slowest:.0f} s) would pass the "
                  f"{self.seconds:.0f} s training budget", flush=True)
            self.model.stop_training = True


def predict_rows(model: "keras.Model", rows: Sequence[np.ndarray], batch_size: int = 256) -> np.ndarray:
    """Keras probabilities for ragged model rows, in their order (batched by similar length)."""
    lengths = np.array([len(f) for f in rows])
    order = np.argsort(lengths, kind="stable")
    probs = np.zeros((len(rows), model.output_shape[-1]), np.float32)
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        probs[idx] = model(pad_left([rows[j] for j in idx]), training=False).numpy()
    return probs


def top_k_indices(probs: np.ndarray, k: int = 5) -> np.ndarray:
    """The k most probable classes of each row, best first (ties: the lower index, as argmax)."""
    return np.argsort(-probs, axis=1, kind="stable")[:, :k]


def classification_metrics(probs: np.ndarray, y: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Top-1/3/5 accuracy, per-category accuracy and confusion matrix (rows: true label)."""
    return metrics_from_top_k(top_k_indices(probs), y, labels)


def metrics_from_top_k(top: np.ndarray, y: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """``classification_metrics`` from each drawing's top-k classes (k >= 1), so a streamed test
    split needs k integers per drawing, not its probabilities."""
    pred = top[:, 0]
    k = len(labels)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y, pred), 1)
    per = {labels[i]: float(cm[i, i] / cm[i].sum()) if cm[i].sum() else None for i in range(k)}
    hit = top == y[:, None]
    return {
        "top1": float(hit[:, :1].any(1).mean()),
        "top3": float(hit[:, :3].any(1).mean()),
        "top5": float(hit[:, :5].any(1).mean()),
        "count": int(len(y)),
        "per_category_top1": per,
        "confusion_matrix": {"labels": labels, "rows_true_cols_predicted": cm.tolist()},
    }


def train_sketch(data: SketchDataset | InMemorySketchData | StreamingSketchData, out_dir: str | Path,
                 options: SketchTrainOptions | None = None, verbose: int | None = None,
                 resume: bool = False, cluster: Cluster | None = None) -> dict[str, Any]:
    """Train, evaluate on the test split and write the run folder; returns the metrics.

    ``data``: drawings in memory (a ``SketchDataset``) or streamed (``sketch_data``). A checkpoint
    is written after every epoch (``checkpoints.EpochCheckpoint``); ``resume=True`` goes on from
    the last one, with the same options, after the process was killed. ``cluster`` (default: from
    ``TF_CONFIG``) makes this process one worker of a multi-worker run (``distributed``): the
    chief writes the run folder and returns the metrics, the others return ``{}``."""
    o = options or SketchTrainOptions()
    data = InMemorySketchData(data) if isinstance(data, SketchDataset) else data
    cluster = cluster if cluster is not None else cluster_from_env()
    if cluster is not None:
        if not isinstance(data, StreamingSketchData):
            raise BadInputError("multi-worker training reads a prepared dataset (inkcast data prepare), whose "
                                "shard files the workers share out; give its folder as --data")
        if o.batch_size % cluster.workers:
            raise BadInputError(f"the global batch {o.batch_size} does not split evenly over {cluster.workers} workers")
    strategy = make_strategy() if cluster is not None else None  # before any other TensorFlow work
    chief = cluster is None or cluster.is_chief
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for s, n in data.counts.items():
        if n == 0:
            raise ValueError(f"the {s} split is empty: give more drawings per category")
    labels = data.categories
    if o.unknown_method not in UNKNOWN_METHODS:
        raise BadInputError(f"unknown unknown_method {o.unknown_method!r}; choose one of {', '.join(UNKNOWN_METHODS)}")
    outliers = None
    if o.outliers:
        if cluster is not None:
            raise BadInputError("outlier training (--outliers) runs on one machine for now: drop --outliers or "
                                "the cluster (TF_CONFIG / --local-workers)")
        from inkcast.data.outliers import load_outliers

        outliers = load_outliers(o.outliers, labels, o.outlier_max_per_category, o.resample_spacing)
    background = outliers is not None and o.unknown_method == "background-class"
    keras.utils.set_random_seed(o.seed)
    tf.config.experimental.enable_op_determinism()
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_sketch_model(len(labels) + background, o.model)
        if outliers is not None and not background:
            loss = outlier_exposure_loss(o.outlier_weight)
            acc = keras.metrics.MeanMetricWrapper(known_accuracy, name="accuracy")
        else:
            loss, acc = "sparse_categorical_crossentropy", "accuracy"
        model.compile(optimizer=keras.optimizers.Adam(o.learning_rate, clipnorm=1.0), loss=loss, metrics=[acc])
    es = (keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=o.patience, restore_best_weights=True)
          if o.patience is not None else None)
    w = cluster.workers if cluster is not None else 1
    extra = (o.outlier_share, o.known_mix_share) if outliers is not None else ()
    per_pass = (data.train_batches(o.batch_size, extra) if cluster is None
                else steps_per_worker(data.shard_lengths("train"), w, o.pool_size, o.batch_size // w))
    per_pass = min(per_pass, o.steps_per_epoch or per_pass)
    plan = plan_schedule(per_pass, o.epochs, o.budget_epochs, o.min_steps, o.max_steps)
    steps, pass_batches = plan.steps, min(per_pass, plan.steps)  # a capped epoch is a truncated pass
    if o.schedule == "cosine":  # a function of the epoch alone, so a resumed run gets the same rates
        lr = keras.callbacks.LearningRateScheduler(
            lambda epoch, _: o.learning_rate * (FINAL_RATE_SHARE + (1 - FINAL_RATE_SHARE) * 0.5
                                                * (1 + math.cos(math.pi * epoch / plan.epochs))))
    elif o.schedule == "plateau":
        lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-5)
    else:
        raise ValueError(f"unknown schedule {o.schedule!r}; choose cosine or plateau")
    stateful = [cb for cb in (es, lr) if cb is not None]  # the callbacks a checkpoint keeps the state of
    timer = EpochTimer()
    # One endless pipeline cut into epochs of a known count of steps: Keras then keeps its
    # iterator across epochs. Given a fresh one each epoch, it freed the last one for up to
    # 10 s between epochs here (about every other epoch; 110 s of a 24-epoch run). A cluster's
    # epoch is the fewest batches any worker's shards give, so every worker runs the same steps.
    if cluster is None:
        if not resume:
            checkpoints.clear(out)
        ckpt = checkpoints.EpochCheckpoint(out, stateful, {"labels": labels, **o.to_dict()}, resume=resume)
        first = ckpt.initial_epoch
        epochs = first if ckpt.finished else plan.epochs
        callbacks = [*stateful, *([TimeLimit(o.max_train_seconds)] if o.max_train_seconds else []), timer,
                     EpochProgress(epochs, "sketch"), ckpt]
        pools = data.train_pools
        if outliers is not None:
            pools = with_outliers(pools, outliers["train"], o.outlier_share, len(labels) if background else OUTLIER, o.seed,
                                  o.resample_spacing, o.outlier_mix, o.known_mix_share)
        train_ds = BucketedBatches(pools, o.batch_size, o, train=True, seed=o.seed).dataset(
            first * plan.passes, max_batches=pass_batches, repeat=True)
        val_ds = BucketedBatches(lambda _: data.eval_pools("validation"), 256, o, train=False).dataset()
        val_steps = None
    else:
        first, epochs, ckpt = 0, plan.epochs, None
        per = o.batch_size // w
        val_per = max(1, 256 // w)
        val_steps = steps_per_worker(data.shard_lengths("validation"), w, o.pool_size, val_per)
        # each worker: its own shard files, its own augmentation stream, exactly `steps` batches a pass
        train_ds = strategy.distribute_datasets_from_function(lambda ctx: BucketedBatches(
            data.for_worker(ctx).train_pools, per, o, train=True, seed=(o.seed, ctx.input_pipeline_id)
        ).dataset(0, max_batches=pass_batches, repeat=True))
        val_ds = strategy.distribute_datasets_from_function(lambda ctx: BucketedBatches(
            lambda _: data.for_worker(ctx).eval_pools("validation"), val_per, o, train=False
        ).dataset(0, max_batches=val_steps, repeat=True))
        callbacks = [*stateful, timer, *([EpochProgress(epochs, "sketch")] if chief else []),
                     keras.callbacks.BackupAndRestore(str(out / "backup"))]
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() and chief else 0  # a live bar on a terminal; EpochProgress's lines always
    if chief:
        print(f"training on {data.counts['train']} drawings of {len(labels)} categories "
              f"({data.counts['validation']} validation, {data.counts['test']} test"
              f"{'' if isinstance(data, InMemorySketchData) else ', streamed from ' + data.source})"
              + (f"; {cluster.workers} workers, {steps} steps of {o.batch_size} an epoch" if cluster else "")
              + (f"; resuming after epoch {first}" if first else ""), flush=True)
        print(plan.describe(data.counts["train"], o.batch_size), flush=True)
    # The drawings loaded so far are millions of long-lived objects that Python's collector would
    # walk on every full pass: frozen out of it, a default epoch ran 2 s (up to 8 s) shorter here.
    if cluster is None:  # workers read their own shards, not the whole splits
        data.preload()
    gc.collect()
    gc.freeze()
    t0 = time.monotonic()
    try:
        fit = model.fit(train_ds, validation_data=val_ds, epochs=epochs, initial_epoch=first, steps_per_epoch=steps,
                        validation_steps=val_steps, callbacks=callbacks, verbose=verbose)
    finally:
        gc.unfreeze()
    train_seconds = time.monotonic() - t0
    # a multi-worker run restarted from its backup has the history of this process's epochs
    history = ckpt.history if ckpt is not None else {k: [float(v) for v in vs] for k, vs in fit.history.items()}
    val_acc = history["val_accuracy"]
    best_epoch = int(np.argmax(val_acc))
    # With early stopping the best epoch's weights are kept (EarlyStopping restores them only
    # when it stops training itself); without it, the last epoch's.
    keeps_best = es is not None and es.best_weights is not None
    if keeps_best and es.stopped_epoch == 0:
        model.set_weights(es.best_weights)
    kept_epoch = best_epoch if keeps_best else len(val_acc) - 1
    # every worker saves (saving a distributed model runs collective ops), the others to a file of
    # their own that they then remove: the multi-worker rule for checkpoints
    weights = out / "model.weights.h5" if chief else out / "backup" / f".worker-{cluster.index}.weights.h5"
    save_weights_atomic(model, weights)
    if not chief:
        weights.unlink(missing_ok=True)
        return {}

    # drawings an epoch: a multi-worker epoch's steps, else the split (or the optional cap's steps)
    seen = steps * o.batch_size if cluster else min(data.counts["train"] * plan.passes, steps * o.batch_size)
    k = len(labels)
    tops, ys, test_scores = [], [], []
    for pool in data.eval_pools("test"):
        probs = predict_rows(model, pool.features)[:, :k]  # a background class is not an answer
        tops.append(top_k_indices(probs))
        ys.append(pool.labels)
        test_scores.append(probs.max(1))
    metrics = metrics_from_top_k(np.concatenate(tops), np.concatenate(ys), labels)
    validation = data.saved("validation")
    val_probs = predict_rows(model, validation.features)[:, :k]
    metrics["unknown"] = unknown_figures(model, o, labels, val_probs, validation.labels, outliers,
                                         np.concatenate(test_scores), np.concatenate(tops)[:, 0] == np.concatenate(ys))
    metrics.update({
        "task": "sketch",
        "split": "test",
        "training_seconds": round(train_seconds, 1),
        "epochs_run": len(val_acc),
        "schedule": plan.to_dict(),  # how long the run trained, and why (training/schedule.py)
        "optimizer_steps": int(model.optimizer.iterations.numpy()),
        "resumed_after_epoch": first or None,
        "seconds_per_epoch": timer.summary(),
        "training_drawings_per_second": round(seen / timer.summary()["median"], 1) if timer.seconds else None,
        # the training steps alone (validation excluded): what a larger set or more workers change
        "training_step_drawings_per_second": round(seen / statistics.median(timer.train_seconds), 1)
        if timer.train_seconds else None,
        # points of validation accuracy gained over the last epochs: a run that ends still rising
        # was too short for its data (more --epochs)
        "validation_rise_points": validation_rise(val_acc),
        "best_epoch": best_epoch + 1,
        "best_validation_accuracy": float(val_acc[best_epoch]),
        "weights_from_epoch": kept_epoch + 1,  # the best epoch with early stopping, else the last
        "validation_accuracy": float(val_acc[kept_epoch]),  # of the weights kept
        "history": history,
        "drawings": dict(data.counts),
        "data": data.source,
        "streamed": not isinstance(data, InMemorySketchData),
        "workers": cluster.workers if cluster else 1,
        "options": o.to_dict(),
    })
    if cluster is not None:
        metrics["steps_per_epoch"] = steps
        metrics["parameters"] = int(model.count_params())
    test = data.saved("test")
    save_rows(out / "test_split.npz", test.features, test.labels, test.key_ids)
    save_rows(out / "validation_split.npz", validation.features, validation.labels, validation.key_ids)
    outlier_categories = {}
    if outliers is not None:  # the held-out roles, for export's figures (train's are in the weights)
        for role in ("validation", "test"):
            split = outliers[role]
            names = split.category_names
            index = {c: i for i, c in enumerate(names)}
            save_rows(out / f"outliers_{role}.npz", split.features, [index[c] for c in split.categories], split.key_ids)
            outlier_categories[role] = names
        outlier_categories["train"] = outliers["train"].category_names
    cal = data.calibration(o.calibration_samples, o.seed)
    save_rows(out / "calibration.npz", cal.features, cal.labels, cal.key_ids)
    write_json_atomic(out / "options.json", {"task": "sketch", "labels": labels, "options": o.to_dict(),
                                             "max_points": MAX_POINTS,
                                             **({"outlier_categories": outlier_categories} if outliers else {})})
    write_json_atomic(out / "metrics.json", metrics)
    write_report(out, metrics)
    checkpoints.clear(out)  # the results are whole: nothing left to resume
    if cluster is not None:
        shutil.rmtree(out / "backup", ignore_errors=True)  # BackupAndRestore removed its checkpoint
    print(f"test top-1 {metrics['top1']:.4f}, top-3 {metrics['top3']:.4f} "
          f"({metrics['count']} drawings); trained {train_seconds:.0f} s, {len(val_acc)} epochs", flush=True)
    rise = metrics["validation_rise_points"]
    if rise is not None and rise > RISING_POINTS:
        print(f"warning: validation accuracy was still rising at the end (+{rise:.1f} points over the last "
              f"epochs): the model may be under-trained for this data; try a higher {plan.longer}", flush=True)
    u = metrics["unknown"]
    if "test" in u:
        print(f"unknown ({u['method']}), test categories never trained on: {summary_line(u['test'])}", flush=True)
    else:
        print(f"unknown: a max-softmax threshold {u['threshold']:.4f} (no outliers were given: --outliers DIR "
              "trains the model to reject drawings of other categories)", flush=True)
    return metrics


RISING_POINTS = 0.5  # a rise of validation accuracy over the last epochs beyond this is reported


def validation_rise(val_acc: Sequence[float], window: int = 3) -> float | None:
    """Mean validation accuracy of the last ``window`` epochs minus that of the ``window`` before,
    in points (fewer epochs: half of them each); None with fewer than two epochs. The default
    run's cosine tail is flat (a few tenths of a point of noise); an under-trained run rises."""
    w = min(window, len(val_acc) // 2)
    if w < 1:
        return None
    return round(100 * (float(np.mean(val_acc[-w:])) - float(np.mean(val_acc[-2 * w : -w]))), 3)


def unknown_figures(model: "keras.Model", o: SketchTrainOptions, labels: list[str], val_probs: np.ndarray,
                    val_labels: np.ndarray, outliers, test_scores: np.ndarray, test_right: np.ndarray) -> dict[str, Any]:
    """metrics.json's ``unknown``: the method, the threshold that keeps ``o.known_kept`` of the
    known validation drawings, and (with outliers) the open-set figures on the validation and
    the test outlier categories, none of which the model trained on."""
    threshold = threshold_keeping(scores_of(val_probs), o.known_kept)
    out: dict[str, Any] = {"method": o.unknown_method if outliers is not None else "max-softmax",
                           "score": SCORE, "threshold": threshold, "known_kept_target": o.known_kept}
    if outliers is None:
        return out
    k = len(labels)
    out["outliers"] = {"sources": outliers.sources, **outliers.counts()}
    val = outliers["validation"]
    out["validation"] = open_set_metrics(scores_of(val_probs), val_probs.argmax(1) == np.asarray(val_labels),
                                         predict_rows(model, val.features)[:, :k], val.categories, threshold, labels)
    test = outliers["test"]
    out["test"] = open_set_metrics(test_scores, test_right, predict_rows(model, test.features)[:, :k],
                                   test.categories, threshold, labels)
    return out


def train_sketch_from_folder(data_dir: str | Path, out_dir: str | Path,
                             options: SketchTrainOptions | None = None, resume: bool = False) -> dict[str, Any]:
    """Train on a folder of category files (read into memory) or a prepared dataset (streamed)."""
    o = options or SketchTrainOptions()
    return train_sketch(open_sketch_data(data_dir, o), out_dir, o, resume=resume)
