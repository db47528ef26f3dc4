"""Progress while training, for both tasks: a line per epoch with the time left, and epoch times.

Keras draws its per-batch bar on a terminal (``verbose=1``); ``EpochProgress`` adds, on a
terminal or not, one line per epoch with its figures, the time so far and an estimate of the
time left (epochs left times the mean epoch so far: an upper bound, since early stopping may end
the run sooner). In a log file or CI that line is the only progress output.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Callable

from .tf_env import keras


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch run in this process (validation included), and of its training
    steps alone (``train_seconds``: up to the start of validation)."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self.train_seconds: list[float] = []
        self._start = 0.0
        self._in_epoch = False

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.monotonic()
        self._in_epoch = True

    def on_test_begin(self, logs=None):
        if self._in_epoch:
            self.train_seconds.append(time.monotonic() - self._start)
            self._in_epoch = False

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.monotonic() - self._start)
        if self._in_epoch:  # no validation
            self.train_seconds.append(self.seconds[-1])
            self._in_epoch = False

    def summary(self) -> dict[str, float] | None:
        if not self.seconds:
            return None
        return {"first": round(self.seconds[0], 2), "median": round(statistics.median(self.seconds), 2),
                "max": round(max(self.seconds), 2)}


class EpochProgress(keras.callbacks.Callback):
    """``[name] epoch 3/40  loss ...  val_accuracy ...  (12 s; 1.2 min so far, at most 7.5 min left)``.

    ``live=True`` (for a terminal) rewrites one line in place, with a bar, instead of adding a line
    per epoch: for runs of many short epochs (the forecaster's)."""

    def __init__(self, epochs: int, name: str, keys: tuple[str, ...] | None = None,
                 write: Callable[[str], None] | None = None, live: bool = False):
        super().__init__()
        self.epochs, self.name, self.keys, self.live = epochs, name, keys, live
        self.write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self.durations: list[float] = []
        self._start = self._epoch_start = 0.0

    def on_train_begin(self, logs=None):
        self._start = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        now = time.monotonic()
        self.durations.append(now - self._epoch_start)
        logs = logs or {}
        keys = self.keys or tuple(k for k in logs if k != "lr")
        figures = "  ".join(f"{k} {logs[k]:.4f}" for k in keys if k in logs)
        left = (self.epochs - epoch - 1) * sum(self.durations) / len(self.durations)
        if self.live:
            done = int(20 * (epoch + 1) / self.epochs)
            sys.stderr.write(f"\r[{self.name}] [{'=' * done}{' ' * (20 - done)}] epoch {epoch + 1}/{self.epochs}  "
                             f"{figures}  at most {_minutes(left)} left ")
            sys.stderr.flush()
            return
        self.write(f"[{self.name}] epoch {epoch + 1}/{self.epochs}  {figures}  ({_minutes(self.durations[-1])}; "
                   f"{_minutes(now - self._start)} so far, at most {_minutes(left)} left)")

    def on_train_end(self, logs=None):
        if self.live:
            sys.stderr.write("\n")
            sys.stderr.flush()
