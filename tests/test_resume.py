"""Training is reproducible, checkpointed every epoch, and resumable after `kill -9`.

Small real runs (300 drawings per category, 4 epochs): two uninterrupted runs give the same
model; a run killed with SIGKILL after its first checkpoint and resumed with ``--resume`` ends
where the uninterrupted run ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ARGS = ["--max-per-category", "300", "--epochs", "4"]  # no early stopping: the default


def _train(quickdraw_dir: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "inkcast", "train", "sketch", str(quickdraw_dir),
                             "--out", str(out), *ARGS, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


@pytest.fixture(scope="module")
def uninterrupted(quickdraw_dir, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("resume") / "whole"
    p = _train(quickdraw_dir, out)
    log, _ = p.communicate(timeout=600)
    assert p.returncode == 0, log[-3000:]
    assert "[sketch] epoch 4/4" in log  # one progress line per epoch when not on a terminal
    return json.loads((out / "metrics.json").read_text())


def test_two_runs_give_the_same_model(uninterrupted, quickdraw_dir, tmp_path):
    out = tmp_path / "again"
    p = _train(quickdraw_dir, out)
    log, _ = p.communicate(timeout=600)
    assert p.returncode == 0, log[-3000:]
    again = json.loads((out / "metrics.json").read_text())
    assert again["top1"] == uninterrupted["top1"]  # to the drawing
    assert again["confusion_matrix"] == uninterrupted["confusion_matrix"]
    assert again["history"]["val_loss"] == pytest.approx(uninterrupted["history"]["val_loss"], rel=1e-6)
    assert again["training_drawings_per_second"] > 0 and again["seconds_per_epoch"]["median"] > 0
    assert not (out / "checkpoint").exists()  # a finished run keeps its results only


def test_a_run_killed_after_its_first_checkpoint_resumes_to_the_same_quality(uninterrupted, quickdraw_dir, tmp_path):
    out = tmp_path / "killed"
    p = _train(quickdraw_dir, out)
    state = out / "checkpoint" / "state.json"
    deadline = time.monotonic() + 600
    while not state.is_file() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.is_file(), p.communicate()[0][-3000:]
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL
    done = json.loads(state.read_text())["epoch"]
    assert 1 <= done < 4
    # nothing of the results is there, half-written or not: only the checkpoint
    assert not any((out / f).exists() for f in ("metrics.json", "model.weights.h5", "options.json", "test_split.npz"))

    p = _train(quickdraw_dir, out, "--resume")
    log, _ = p.communicate(timeout=600)
    assert p.returncode == 0, log[-3000:]
    assert f"resuming after epoch {done}" in log
    m = json.loads((out / "metrics.json").read_text())
    assert m["resumed_after_epoch"] == done and m["epochs_run"] == uninterrupted["epochs_run"] == 4
    assert len(m["history"]["val_accuracy"]) == 4
    # The epochs before the kill are the uninterrupted run's own; after it, only dropout's random
    # draws differ (TensorFlow's generator state is not in the checkpoint).
    np.testing.assert_allclose(m["history"]["val_loss"][:done], uninterrupted["history"]["val_loss"][:done], rtol=1e-6)
    assert abs(m["top1"] - uninterrupted["top1"]) <= 0.03, (m["top1"], uninterrupted["top1"])


def test_resume_refuses_without_a_checkpoint_or_with_other_options(quickdraw_dir, tmp_path):
    from inkcast.main import main

    assert main(["train", "sketch", str(quickdraw_dir), "--out", str(tmp_path / "none"), *ARGS,
                 "--resume"]) == 2
    p = _train(quickdraw_dir, tmp_path / "k")
    state = tmp_path / "k" / "checkpoint" / "state.json"
    while not state.is_file() and p.poll() is None:
        time.sleep(0.05)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    r = subprocess.run([sys.executable, "-m", "inkcast", "train", "sketch", str(quickdraw_dir), "--out",
                        str(tmp_path / "k"), "--max-per-category", "300", "--epochs", "5", "--patience", "3",
                        "--resume"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "the checkpoint was made with other options (epochs, patience)" in r.stderr
