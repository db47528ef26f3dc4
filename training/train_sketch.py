"""Train the sketch recognizer on a Quick, Draw! folder and write a run folder.

RUN_DIR gets: ``model.weights.h5`` (best weights), ``options.json`` (labels + exact options, so
export can rebuild the network), ``metrics.json``, ``test_split.npz`` (the preprocessed test
split export validates against) and ``calibration.npz`` (training drawings for quantization).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from inkcast.data.quickdraw import SketchDataset, SketchSplit, load_quickdraw
from inkcast.data.files import write_json_atomic
from inkcast.data.rows import save_rows
from inkcast.runtime.sketch_preprocess import MAX_POINTS, pad_left, points_to_features

from .checkpoints import save_weights_atomic
from .sketch_model import build_sketch_model
from .sketch_options import SketchTrainOptions
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


class BucketedBatches(keras.utils.Sequence):
    """Batches of drawings of similar length, left-padded to the batch's longest.

    Grouping by length keeps padding (and so compute) small; the model is padding-invariant,
    so this changes speed, not answers. Training batches are reshuffled and re-augmented
    each epoch; evaluation batches keep the split's order.
    """

    def __init__(self, split: SketchSplit, batch_size: int, options: SketchTrainOptions,
                 train: bool, seed: int = 0):
        super().__init__()
        self.split, self.batch_size, self.o, self.train = split, batch_size, options, train
        self.rng = np.random.default_rng(seed)
        self.lengths = np.array([len(f) for f in split.features])
        self._plan()

    def _plan(self) -> None:
        n = len(self.split)
        if not self.train:
            order = np.arange(n)
            self.batches = [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]
            return
        noisy = self.lengths + self.rng.uniform(0, 8, n)  # similar, not identical, lengths mix
        order = np.argsort(noisy, kind="stable")
        batches = [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]
        self.batches = [batches[i] for i in self.rng.permutation(len(batches))]

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int):
        idx = self.batches[i]
        if self.train and self.o.augment:
            rows = []
            for j in idx:
                try:
                    pts = augment_points(self.split.points[j], self.rng, self.o.rotate_degrees, self.o.shear,
                                         self.o.drop_points)
                    rows.append(points_to_features(pts, MAX_POINTS, self.o.resample_spacing))
                except ValueError:
                    rows.append(self.split.features[j])
        else:
            rows = [self.split.features[j] for j in idx]
        return pad_left(rows), self.split.y[idx]

    def on_epoch_end(self) -> None:
        if self.train:
            self._plan()


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


def classification_metrics(probs: np.ndarray, y: np.ndarray, labels: list[str]) -> dict[str, Any]:
    """Top-1/top-3 accuracy, per-category accuracy and confusion matrix (rows: true label)."""
    pred = probs.argmax(1)
    top3 = np.argsort(-probs, axis=1)[:, :3]
    k = len(labels)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y, pred), 1)
    per = {labels[i]: float(cm[i, i] / cm[i].sum()) if cm[i].sum() else None for i in range(k)}
    return {
        "top1": float((pred == y).mean()),
        "top3": float((top3 == y[:, None]).any(1).mean()),
        "count": int(len(y)),
        "per_category_top1": per,
        "confusion_matrix": {"labels": labels, "rows_true_cols_predicted": cm.tolist()},
    }


def stratified_sample(split: SketchSplit, n: int, seed: int) -> np.ndarray:
    """Up to n training indices spread evenly over categories (random within each)."""
    rng = np.random.default_rng(seed)
    y = split.y
    cats = np.unique(y)
    per = max(1, n // len(cats))
    out = [rng.permutation(np.flatnonzero(y == c))[:per] for c in cats]
    return np.sort(np.concatenate(out))


def train_sketch(dataset: SketchDataset, out_dir: str | Path, options: SketchTrainOptions | None = None,
                 verbose: int | None = None) -> dict[str, Any]:
    """Train, evaluate on the test split and write the run folder; returns the metrics."""
    o = options or SketchTrainOptions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for s in ("train", "validation", "test"):
        if len(dataset[s]) == 0:
            raise ValueError(f"the {s} split is empty: give more drawings per category")
    keras.utils.set_random_seed(o.seed)
    tf.config.experimental.enable_op_determinism()
    labels = dataset.categories
    model = build_sketch_model(len(labels), o.model)
    model.compile(optimizer=keras.optimizers.Adam(o.learning_rate, clipnorm=1.0),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train_b = BucketedBatches(dataset["train"], o.batch_size, o, train=True, seed=o.seed)
    val_b = BucketedBatches(dataset["validation"], 256, o, train=False)
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    print(f"training on {len(dataset['train'])} drawings of {len(labels)} categories "
          f"({len(dataset['validation'])} validation, {len(dataset['test'])} test)", flush=True)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=o.patience, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=1e-5),
        TimeLimit(o.max_train_seconds),
    ]
    t0 = time.monotonic()
    hist = model.fit(train_b, validation_data=val_b, epochs=o.epochs, callbacks=callbacks, verbose=verbose)
    train_seconds = time.monotonic() - t0
    # EarlyStopping restores the best weights only when it stops training itself.
    val_acc = hist.history["val_accuracy"]
    best_epoch = int(np.argmax(val_acc))
    es = callbacks[0]
    if es.best_weights is not None and es.stopped_epoch == 0:
        model.set_weights(es.best_weights)

    test = dataset["test"]
    probs = predict_rows(model, test.features)
    metrics = classification_metrics(probs, test.y, labels)
    metrics.update({
        "task": "sketch",
        "split": "test",
        "training_seconds": round(train_seconds, 1),
        "epochs_run": len(val_acc),
        "best_epoch": best_epoch + 1,
        "best_validation_accuracy": float(val_acc[best_epoch]),
        "history": {k: [float(v) for v in vals] for k, vals in hist.history.items()},
        "drawings": {s: len(dataset[s]) for s in ("train", "validation", "test")},
        "data": dataset.source,
        "options": o.to_dict(),
    })
    save_weights_atomic(model, out / "model.weights.h5")
    save_rows(out / "test_split.npz", test.features, test.y, test.key_ids)
    cal = stratified_sample(dataset["train"], o.calibration_samples, o.seed)
    tr = dataset["train"]
    save_rows(out / "calibration.npz", [tr.features[i] for i in cal], tr.y[cal], [tr.key_ids[i] for i in cal])
    write_json_atomic(out / "options.json", {"task": "sketch", "labels": labels, "options": o.to_dict(),
                                             "max_points": MAX_POINTS})
    write_json_atomic(out / "metrics.json", metrics)
    print(f"test top-1 {metrics['top1']:.4f}, top-3 {metrics['top3']:.4f} "
          f"({len(test)} drawings); trained {train_seconds:.0f} s, {len(val_acc)} epochs", flush=True)
    return metrics


def train_sketch_from_folder(data_dir: str | Path, out_dir: str | Path,
                             options: SketchTrainOptions | None = None) -> dict[str, Any]:
    o = options or SketchTrainOptions()
    return train_sketch(load_quickdraw(data_dir, o.data, spacing=o.resample_spacing), out_dir, o)
