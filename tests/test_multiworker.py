"""Multi-worker training on tf.distribute: real worker processes on 127.0.0.1 (``--local-workers``),
a run folder exported and recognized by the runtime, and a worker killed with kill -9 and restarted."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from inkcast.runtime.errors import BadInputError
from inkcast.training.distributed import Cluster, cluster_from_env, steps_per_worker
from inkcast.training.sketch_data import batches_in
from inkcast.training.local_cluster import tf_config, without_option

pytestmark = pytest.mark.slow


def _inkcast(*args: str) -> list[str]:
    return [sys.executable, "-m", "inkcast", *args]


def test_two_workers_on_a_plain_folder_train_a_bundle_the_runtime_recognizes_with(quickdraw_dir, tmp_path, test_drawings):
    """A folder of ndjson files, as a user has it: prepared once into RUN/prepared (said so), then
    the two workers share its shards."""
    from inkcast.export.pipeline import ExportOptions, export_run
    from inkcast.runtime import SketchRecognizer

    run = tmp_path / "run"
    out = subprocess.run(_inkcast("train", "sketch", str(quickdraw_dir), "--max-per-category", "1200",
                                  "--out", str(run), "--epochs", "3", "--local-workers", "2"),
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-3000:]
    assert f"preparing it once as a TFDS dataset in {run / 'prepared'}" in out.stdout
    assert re.search(r"\[worker 0\] training on \d+ drawings .*; 2 workers, \d+ steps of 64 an epoch", out.stdout)
    m = json.loads((run / "metrics.json").read_text())
    assert m["workers"] == 2 and m["epochs_run"] == 3
    assert m["drawings"]["train"] // 64 - 8 <= m["steps_per_epoch"] <= m["drawings"]["train"] // 64 + 1
    assert sorted(p.name for p in run.iterdir()) == ["calibration.npz", "confusion.png", "metrics.json",
                                                     "model.weights.h5", "options.json", "prepared", "report.md",
                                                     "test_split.npz", "validation_split.npz"]
    bundle = tmp_path / "bundle"
    export_run(run, bundle, ExportOptions(variants=("tflite-float32", "onnx-float32")), log=lambda _: None)
    for backend in ("tflite", "onnx"):
        rec = SketchRecognizer(bundle, backend=backend)
        top1 = [p[0][0] for p in rec.predict_batch([r["drawing"] for r in test_drawings], top_k=1)]
        acc = np.mean([t == r["word"] for t, r in zip(top1, test_drawings)])
        assert acc > 0.6, (backend, acc)  # five categories: chance is 0.2


def test_a_worker_killed_after_the_first_backup_is_restarted_and_the_run_completes(prepared, tmp_path):
    run = tmp_path / "run"
    p = subprocess.Popen(_inkcast("train", "sketch", str(prepared), "--out", str(run), "--epochs", "4",
                                  "--local-workers", "2"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, killed = [], None
    deadline = time.monotonic() + 900
    try:
        for line in p.stdout:
            lines.append(line)
            m = re.match(r"\[cluster\] worker 1 pid (\d+)", line)
            if m and killed is None:
                worker1 = int(m.group(1))
            if killed is None and "[worker 0] [sketch] epoch 1/4" in line:
                while not (run / "backup" / "chief" / "checkpoint").exists() and time.monotonic() < deadline:
                    time.sleep(0.05)  # BackupAndRestore's first backup, written at the end of epoch 1
                os.kill(worker1, signal.SIGKILL)
                killed = worker1
            assert time.monotonic() < deadline, "".join(lines[-50:])
        assert p.wait(timeout=120) == 0, "".join(lines[-80:])
    finally:
        if p.poll() is None:
            p.kill()
    text = "".join(lines)
    assert killed is not None
    assert "[cluster] worker 1 ended (killed by signal 9): restarting all 2 workers from the last backup" in text
    assert "[worker 0] [sketch] epoch 2/4" in text.split("(restart 1)")[-1]  # went on after the backed-up epoch
    m = json.loads((run / "metrics.json").read_text())
    # the restarted cluster went on from the backup: it ran fewer than the 4 epochs itself
    assert 1 <= m["epochs_run"] < 4, m["history"]
    assert m["top1"] > 0.6
    assert not (run / "backup").exists()


def test_cluster_description_and_step_counts(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", tf_config(["127.0.0.1:1", "127.0.0.1:2"], 1))
    assert cluster_from_env() == Cluster(2, 1) and not Cluster(2, 1).is_chief
    monkeypatch.setenv("TF_CONFIG", tf_config(["127.0.0.1:1"], 0))
    assert cluster_from_env() is None  # one worker is a plain run
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "ps"}}))
    with pytest.raises(BadInputError, match="only a cluster of workers is supported"):
        cluster_from_env()
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(BadInputError, match="TF_CONFIG is not a cluster description"):
        cluster_from_env()
    assert batches_in(100, 40, 16) == 3 + 3 + 2
    assert steps_per_worker([10, 20, 30, 40], 2, 1000, 8) == min(-(-40 // 8), -(-60 // 8))
    with pytest.raises(BadInputError, match="the split has 1 shard files for 2 workers"):
        steps_per_worker([10], 2, 1000, 8)
    assert without_option(["train", "--local-workers", "2", "--x", "--local-workers=3"], "--local-workers") == ["train", "--x"]


def test_multi_worker_needs_a_prepared_dataset(quickdraw_dir, tmp_path):
    from inkcast.data.quickdraw import QuickDrawOptions, load_quickdraw
    from inkcast.training.train_sketch import train_sketch

    ds = load_quickdraw(quickdraw_dir, QuickDrawOptions(max_per_category=50))
    with pytest.raises(BadInputError, match="multi-worker training reads a prepared dataset"):
        train_sketch(ds, tmp_path, cluster=Cluster(2, 0))


def test_a_refused_cluster_command_fails_before_any_worker_starts(quickdraw_dir, outliers_dir, tmp_path):
    """Options every worker would refuse are refused by the supervisor itself: exit 2, no worker."""
    out = subprocess.run(_inkcast("train", "sketch", str(quickdraw_dir), "--outliers", str(outliers_dir),
                                  "--out", str(tmp_path / "run"), "--local-workers", "2"),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "runs on one machine for now: drop --outliers or --local-workers" in out.stderr
    assert "[cluster] worker" not in out.stdout and not (tmp_path / "run").exists()


def test_a_worker_that_refuses_its_command_is_not_restarted(tmp_path, capsys):
    """A refusal (here: no such data folder, exit 3) would end the same way every time."""
    from inkcast.training.local_cluster import run_local_workers

    rc = run_local_workers(["train", "sketch", str(tmp_path / "gone"), "--out", str(tmp_path / "run")], 2)
    out = capsys.readouterr().out
    assert rc == 3 and "refused the command (exit status 3); not restarting" in out and "restart 1" not in out
