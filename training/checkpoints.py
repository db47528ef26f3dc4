"""Run-folder state on disk: model weights written atomically, and a resumable training checkpoint.

``EpochCheckpoint`` saves, after every epoch, everything a killed run needs to go on as if it
had not stopped: the model's weights and the optimizer's state (``tf.train.Checkpoint``), the
epoch, the history so far, and the state of the early-stopping and learning-rate callbacks
(their counters and the best weights kept so far). It is Keras ``BackupAndRestore`` plus that
callback state, which ``BackupAndRestore`` does not keep (a resumed run would otherwise restart
its patience and forget its best weights). Each checkpoint is written into a fresh folder, and
the link ``checkpoint`` is then switched to it with one atomic rename, so a ``kill -9`` at any
moment leaves the link on the last whole checkpoint.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from inkcast.runtime.errors import OptionsError

from .tf_env import keras, tf

CHECKPOINT = "checkpoint"  # the link inside a run folder to the last whole checkpoint folder


def save_weights_atomic(model: Any, path: str | Path) -> None:
    """``model.save_weights`` to a temporary name beside ``path``, then renamed into place."""
    path = Path(path)
    tmp = path.parent / f".tmp-{path.name}"  # keeps the suffix: ".weights.h5" picks the format
    model.save_weights(str(tmp))
    os.replace(tmp, path)


def _fsync_tree(root: Path) -> None:
    for p in [*root.iterdir(), root]:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _callback_state(cb: Any) -> tuple[dict[str, Any], list[np.ndarray] | None]:
    state = {k: getattr(cb, k) for k in ("wait", "best", "best_epoch", "cooldown_counter") if hasattr(cb, k)}
    state = {k: float(v) if isinstance(v, (float, np.floating)) else int(v) for k, v in state.items()}
    return state, getattr(cb, "best_weights", None)


class EpochCheckpoint(keras.callbacks.Callback):
    """Save after each epoch, restore at the start of training when ``resume`` found a checkpoint.

    ``stateful`` are the callbacks whose state is kept (EarlyStopping, ReduceLROnPlateau); list
    this callback after them, so its ``on_train_begin`` restores what theirs resets."""

    def __init__(self, run_dir: str | Path, stateful: list[Any], options: dict[str, Any], resume: bool = False):
        super().__init__()
        self.root = Path(run_dir) / CHECKPOINT
        self.stateful = stateful
        self.options = json.loads(json.dumps(options))  # as the checkpoint holds them (tuples read back as lists)
        self.state = read_state(run_dir) if resume else None
        if resume and self.state is None:
            raise OptionsError(f"{run_dir}: no checkpoint to resume from (a run writes one after each epoch)")
        if self.state is not None and self.state["options"] != self.options:
            saved = self.state["options"]
            changed = sorted(k for k in set(self.options) | set(saved) if self.options.get(k) != saved.get(k))
            raise OptionsError(f"{run_dir}: the checkpoint was made with other options ({', '.join(changed)}); "
                                "resume with the options the run started with")
        self.history: dict[str, list[float]] = dict(self.state["history"]) if self.state else {}

    @property
    def finished(self) -> bool:
        """The checkpointed run had already stopped (early stopping or its time budget)."""
        return bool(self.state and self.state["stop_training"])

    @property
    def initial_epoch(self) -> int:
        """The first epoch still to run (0 for a fresh run)."""
        return int(self.state["epoch"]) if self.state else 0

    def on_train_begin(self, logs=None):
        if not self.state:
            return
        tf.train.Checkpoint(model=self.model, optimizer=self.model.optimizer).read(
            str(self.root / "model")).assert_existing_objects_matched()
        for i, (cb, (state, has_best)) in enumerate(zip(self.stateful, self.state["callbacks"])):
            for k, v in state.items():
                setattr(cb, k, v)
            if has_best:
                with np.load(self.root / f"best_weights_{i}.npz") as z:
                    cb.best_weights = [z[f"w{j}"] for j in range(len(z.files))]

    def on_epoch_end(self, epoch, logs=None):
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))
        run = self.root.parent
        folder = run / f".{CHECKPOINT}-{epoch + 1}"
        shutil.rmtree(folder, ignore_errors=True)  # left by a run killed while writing it
        folder.mkdir()
        tf.train.Checkpoint(model=self.model, optimizer=self.model.optimizer).write(str(folder / "model"))
        callbacks = []
        for i, cb in enumerate(self.stateful):
            state, best = _callback_state(cb)
            if best is not None:
                np.savez(folder / f"best_weights_{i}.npz", **{f"w{j}": w for j, w in enumerate(best)})
            callbacks.append((state, best is not None))
        (folder / "state.json").write_text(json.dumps({
            "epoch": epoch + 1, "history": self.history, "callbacks": callbacks, "options": self.options,
            "stop_training": bool(self.model.stop_training)}), encoding="utf-8")
        _fsync_tree(folder)
        previous = os.readlink(self.root) if self.root.is_symlink() else None
        link = run / f".{CHECKPOINT}.link-{os.getpid()}"
        link.unlink(missing_ok=True)
        os.symlink(folder.name, link)
        os.replace(link, self.root)  # the switch: atomic
        if previous and previous != folder.name:
            shutil.rmtree(run / previous, ignore_errors=True)


def read_state(run_dir: str | Path) -> dict[str, Any] | None:
    """The last whole checkpoint's state of a run folder, or None if it has none."""
    path = Path(run_dir) / CHECKPOINT / "state.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def clear(run_dir: str | Path) -> None:
    """Remove a run folder's checkpoints (a finished run keeps only its results)."""
    run = Path(run_dir)
    (run / CHECKPOINT).unlink(missing_ok=True)
    for p in run.glob(f".{CHECKPOINT}*"):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
