"""Fault injection: ``kill -9`` while a bundle is written, and a full disk during export.

The previous bundle must stay whole and loadable at every instant: the writer builds the new
bundle in a hidden sibling folder and swaps the two folders in one ``renameat2`` call.

The kills are real SIGKILLs of a child process. To land them inside the write (which takes
milliseconds), the child counts the writer's own file-system calls (``os.fsync``, ``os.replace``,
the swap) and kills itself at the k-th, for every k, several rounds; a few real ``inkcast export``
runs are also killed at random moments. The full disk is a real tmpfs too small for the new
bundle (the test is skipped where this machine may not mount one).
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inkcast.runtime import SketchRecognizer
from inkcast.runtime.bundle import MANIFEST, load_bundle

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import os, signal, sys
from pathlib import Path
import inkcast.export.bundle_writer as bw

crash_at = int(sys.argv[3])
calls = [0]
def counted(fn):
    def wrapper(*a, **k):
        calls[0] += 1
        if calls[0] == crash_at:
            os.kill(os.getpid(), signal.SIGKILL)
        result = fn(*a, **k)
        calls[0] += 1
        if calls[0] == crash_at:  # also right after the call returned
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return wrapper
os.fsync = counted(os.fsync)
os.replace = counted(os.replace)
bw._exchange = counted(bw._exchange)
bw.shutil.rmtree = counted(bw.shutil.rmtree)

src = Path(sys.argv[1])
manifest = __import__("json").loads((src / "manifest.json").read_text())
manifest.pop("files", None)
manifest["note"] = "written by the fault-injection child"
files = {v["file"]: src / v["file"] for v in manifest["variants"].values()}
bw.write_bundle(sys.argv[2], files, manifest, {"labels.txt": (src / "labels.txt").read_text()})
print("CALLS", calls[0])
"""


def whole(bundle: Path) -> str:
    """Which bundle is at ``bundle``: "old" or "new"; fails unless it is whole and loads."""
    b = load_bundle(bundle)
    b.verify_all()
    SketchRecognizer(bundle, backend="onnx")
    return "new" if b.manifest.get("note") else "old"


def test_kill_9_at_every_step_of_a_bundle_write_keeps_a_whole_bundle(sketch_bundle, tmp_path):
    out = tmp_path / "bundle"
    shutil.copytree(sketch_bundle, out)
    script = tmp_path / "child.py"
    script.write_text(CHILD)

    def child(k: int) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(script), str(sketch_bundle), str(out), str(k)],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)

    dry = child(10 ** 6)  # no crash: count the steps
    assert dry.returncode == 0, dry.stderr[-2000:]
    steps = int(dry.stdout.split("CALLS")[1])
    assert whole(out) == "new"
    shutil.rmtree(out)
    shutil.copytree(sketch_bundle, out)

    outcomes = {"old": 0, "new": 0}
    trials = 0
    while trials < 50:
        for k in range(1, steps + 1):
            before = whole(out)
            r = child(k)
            assert r.returncode == -signal.SIGKILL, (k, r.returncode, r.stderr[-1500:])
            now = whole(out)  # never half: the old one or the new one, loadable
            assert now in (before, "new")
            outcomes[now] += 1
            trials += 1
            if now == "new":  # start the next round from the old bundle again
                shutil.rmtree(out)
                shutil.copytree(sketch_bundle, out)
    print(f"kill -9 inside the write: {trials} trials over {steps} steps, {outcomes['old']} left the old bundle, "
          f"{outcomes['new']} the new one, 0 half")
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes
    # no debris is left for long: the next write cleans up interrupted ones
    assert child(10 ** 6).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".bundle")) == []


def test_kill_9_during_real_exports_keeps_the_previous_bundle(sketch_run, sketch_bundle, tmp_path):
    out = tmp_path / "bundle"
    shutil.copytree(sketch_bundle, out)
    original = (out / MANIFEST).read_bytes()
    rng = random.Random(5)
    for trial in range(3):
        p = subprocess.Popen([sys.executable, "-c", "import sys; from inkcast.main import main; sys.exit(main())",
                              "export", str(sketch_run), "--out", str(out), "--variants", "onnx-float32"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=ROOT)
        time.sleep(rng.uniform(2.0, 12.0))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        b = load_bundle(out)
        b.verify_all()
        assert (out / MANIFEST).read_bytes() == original or set(b.variants) == {"onnx-float32"}


@contextlib.contextmanager
def tmpfs(where: Path, size: str):
    """A real tmpfs of ``size`` mounted at ``where`` (the test is skipped where none can be mounted)."""
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], capture_output=True)


@pytest.fixture()
def small_tmpfs(tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as mount:
        yield mount


def test_a_full_disk_during_export_is_a_clear_error_and_keeps_the_old_bundle(sketch_run, small_tmpfs, capsys):
    from inkcast.main import main

    out = small_tmpfs / "bundle"
    assert main(["export", str(sketch_run), "--out", str(out), "--variants", "onnx-float32"]) == 0
    before = (out / MANIFEST).read_bytes()
    # the old bundle (ONNX + conformance.json, ~2.7 MB) leaves no room on 4 MB for a new one with TFLite too (~3.8 MB)
    assert main(["export", str(sketch_run), "--out", str(out), "--variants", "tflite-float32,onnx-float32"]) == 1
    err = capsys.readouterr().err
    assert "no space left on the device" in err and "the previous bundle is unchanged" in err, err
    assert (out / MANIFEST).read_bytes() == before
    whole_after = load_bundle(out)
    whole_after.verify_all()
    assert set(json.loads(before)["variants"]) == {"onnx-float32"}
    assert [p.name for p in small_tmpfs.iterdir()] == ["bundle"]  # the partial new bundle is gone


CLI = [sys.executable, "-c", "import sys; from inkcast.main import main; sys.exit(main())"]


def _split_keys(data_dir: Path) -> dict[str, list[str]]:
    """Every split's key_ids of a prepared dataset, sorted."""
    import tensorflow_datasets as tfds

    from inkcast.training.sketch_data import dataset_dir

    builder = tfds.builder_from_directory(str(dataset_dir(data_dir)))
    return {s: sorted(e["key_id"].decode() for e in tfds.as_numpy(builder.as_dataset(split=s)))
            for s in ("train", "validation", "test")}


def test_kill_9_during_data_prepare_never_leaves_a_half_dataset(quickdraw_dir, prepared, tmp_path):
    """``inkcast data prepare`` killed while it writes: the data_dir holds no dataset or a whole
    one, and the next run finishes on top of the debris with the same drawings as a clean run."""
    from inkcast.training.sketch_data import dataset_dir

    out = tmp_path / "tfds"
    cmd = [*CLI, "data", "prepare", str(quickdraw_dir), "--out", str(out), "--max-per-category", "1200",
           "--shards", "4"]  # the options of the `prepared` fixture

    def writing() -> bool:  # TFDS writes into a `*.incomplete*` folder that it renames when done
        return any("incomplete" in p.name for p in out.rglob("*")) if out.exists() else False

    def start_and_wait_for_writing() -> tuple[subprocess.Popen, float]:
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        t0 = time.monotonic()
        while not writing() and p.poll() is None and time.monotonic() - t0 < 120:
            time.sleep(0.01)
        return p, time.monotonic()

    p, began = start_and_wait_for_writing()  # a clean run: how long its writing lasts
    assert p.wait(timeout=300) == 0
    span = time.monotonic() - began
    expected = _split_keys(prepared)
    assert _split_keys(out) == expected
    shutil.rmtree(out)

    rng = random.Random(11)
    outcomes = {"none": 0, "whole": 0}
    for trial in range(6):
        p, _ = start_and_wait_for_writing()
        time.sleep(rng.uniform(0, span))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        if dataset_dir(out) is None:
            outcomes["none"] += 1
        else:  # finished before the kill: it must be whole
            assert _split_keys(out) == expected
            outcomes["whole"] += 1
            shutil.rmtree(out)
    print(f"kill -9 during data prepare: 6 trials, {outcomes['none']} left no dataset, "
          f"{outcomes['whole']} a whole one, 0 half")
    assert outcomes["none"] > 0
    # the debris of the last kill does not stop the next run, nor change what it writes
    assert subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT).returncode == 0
    assert _split_keys(out) == expected


def test_kill_9_during_downloads_never_leaves_a_half_file(data_dir, tmp_path):
    """``inkcast data download`` killed mid-transfer, many times: a file under its own name is
    always whole; each run resumes what the last one left (HTTP Range), and the last run ends whole."""
    from tests.bucket_server import BucketServer, Faults, shared_bucket

    cats = ["apple", "candle", "eyeglasses", "fork", "star"]
    source = {c: (data_dir / "quickdraw" / f"{c}.ndjson").read_bytes() for c in cats}
    out = tmp_path / "dl"
    rng = random.Random(3)
    trials, complete_after = 8, []
    with BucketServer(shared_bucket(data_dir), Faults(bytes_per_second=5e5)) as s:
        cmd = [*CLI, "data", "download", "--categories", ",".join(cats), "--out", str(out), "--base-url", s.base_url,
               "--workers", "3"]
        for trial in range(trials):
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
            time.sleep(rng.uniform(0.5, 4.0))
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=60)
            named = sorted(out.glob("*.ndjson")) if out.exists() else []
            for f in named:  # under its own name: whole, byte for byte
                assert f.read_bytes() == source[f.stem], f"{f.name} is not whole after kill {trial + 1}"
            complete_after.append(len(named))
            if len(named) == len(cats):  # all done before the kill: start over, to kill more transfers
                shutil.rmtree(out)
        resumed = [r for _, r in s.log if r and not r.endswith("=0-")]
        shutil.rmtree(out, ignore_errors=True)
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        time.sleep(2.5)  # past the first 1 MiB piece of each file
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        assert subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT).returncode == 0
    print(f"kill -9 during downloads: {trials} trials, whole files after each: {complete_after}, "
          f"{len(resumed)} requests resumed a partial file, 0 half files")
    assert resumed, "no run continued a partial file"
    assert {f.stem: f.read_bytes() for f in out.glob("*.ndjson")} == source
    assert not any((out / ".partial").glob("*"))


def test_a_full_disk_during_data_prepare_is_a_clear_error_and_leaves_no_dataset(quickdraw_dir, tmp_path, capsys):
    from inkcast.main import main
    from inkcast.training.sketch_data import dataset_dir

    with tmpfs(tmp_path / "disk", "300k") as disk:  # the 6,000 drawings take about 1.4 MB
        rc = main(["data", "prepare", str(quickdraw_dir), "--out", str(disk / "tfds"), "--max-per-category", "1200",
                   "--shards", "4"])
        err = capsys.readouterr().err
        assert rc == 1 and "no space left on the device" in err and "nothing was kept" in err, err
        assert dataset_dir(disk / "tfds") is None
        assert not [p for p in disk.rglob("*") if "incomplete" in p.name]


def test_a_full_disk_during_downloads_is_a_clear_error_and_keeps_whole_files_only(data_dir, tmp_path, capsys):
    from inkcast.main import main

    from tests.bucket_server import BucketServer, shared_bucket

    cats = ["apple", "candle", "eyeglasses", "fork", "star"]  # 7.3 MB in all; the first two, 3.0 MB, fit
    with tmpfs(tmp_path / "disk", "3m") as disk, BucketServer(shared_bucket(data_dir)) as s:
        rc = main(["data", "download", "--categories", ",".join(cats), "--out", str(disk / "dl"),
                   "--base-url", s.base_url, "--workers", "1"])  # one at a time: which files fit is fixed
        err = capsys.readouterr().err
        assert rc == 1 and "no space left on the device" in err and "run again to resume" in err, err
        named = sorted((disk / "dl").glob("*.ndjson"))
        assert [f.stem for f in named] == ["apple", "candle"]
        for f in named:
            assert f.read_bytes() == (data_dir / "quickdraw" / f.name).read_bytes()
        assert len(s.log) == len(cats)  # a full disk is not retried
