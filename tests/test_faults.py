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
                              "export", str(sketch_run), "--out", str(out), "--formats", "onnx-float32"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=ROOT)
        time.sleep(rng.uniform(2.0, 12.0))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=60)
        b = load_bundle(out)
        b.verify_all()
        assert (out / MANIFEST).read_bytes() == original or set(b.variants) == {"onnx-float32"}


@pytest.fixture()
def small_tmpfs(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_full_disk_during_export_is_a_clear_error_and_keeps_the_old_bundle(sketch_run, small_tmpfs, capsys):
    from inkcast.main import main

    out = small_tmpfs / "bundle"
    assert main(["export", str(sketch_run), "--out", str(out), "--formats", "onnx-float32"]) == 0
    before = (out / MANIFEST).read_bytes()
    # the old bundle (ONNX + conformance.json, ~2.7 MB) leaves no room on 4 MB for a new one with TFLite too (~3.8 MB)
    assert main(["export", str(sketch_run), "--out", str(out), "--formats", "tflite-float32,onnx-float32"]) == 2
    err = capsys.readouterr().err
    assert "no space left on the device" in err and "the previous bundle is unchanged" in err, err
    assert (out / MANIFEST).read_bytes() == before
    whole_after = load_bundle(out)
    whole_after.verify_all()
    assert set(json.loads(before)["variants"]) == {"onnx-float32"}
    assert [p.name for p in small_tmpfs.iterdir()] == ["bundle"]  # the partial new bundle is gone
