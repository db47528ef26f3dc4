"""The wheel a user installs: `pip install "inkcast[tflite]"` into a fresh venv recognizes a real
drawing, and TensorFlow is neither installed nor imported (nor even looked up) on the way.

Builds the wheel from a copy of the working tree, installs it with only the ``tflite`` extra from
the package registry (pip's cache makes reruns fast), and runs a recognition in a fresh process
of that venv. The bundle is the suite's own (``sketch_bundle`` in conftest.py), shared with the
other tests, so this test adds about half a minute to a session.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TF_DISTS = {"tensorflow", "tensorflow-cpu", "tensorflow-intel", "tf-nightly", "tf-keras", "keras", "tf2onnx"}
TF_MODULES = ("tensorflow", "tf_keras", "keras", "tf2onnx")
SIGNING_DISTS = {"model-signing", "sigstore", "pyopenssl", "in-toto-attestation"}

PROBE = r"""
import json, sys
TF = set(sys.argv[3].split(","))
attempted = []
class Watch:  # records every attempt to import TensorFlow, even one that would fail
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in TF:
            attempted.append(name)
        return None
sys.meta_path.insert(0, Watch())
from importlib import metadata
import inkcast.runtime
from inkcast.runtime import SketchRecognizer
r = SketchRecognizer(sys.argv[1], backend="tflite")
drawing = json.loads(open(sys.argv[2]).read())
top = r.predict(drawing, top_k=3)
p = r.probabilities(drawing).tolist()
print(json.dumps({
    "top": top, "p": p, "runtime_file": inkcast.runtime.__file__,
    "dists": sorted(d.metadata["Name"] for d in metadata.distributions()),
    "tf_modules": sorted(m for m in sys.modules if m.split(".")[0] in TF),
    "tf_attempted": sorted(set(attempted)),
}))
"""


def _run(cmd: list[str], what: str, timeout: int = 300, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, **kw)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what}: no result after {timeout} s: {' '.join(cmd)}")
    assert res.returncode == 0, f"{what} failed (exit {res.returncode}):\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    return res


def _copy_source(dst: Path) -> None:
    """The working tree as git sees it (tracked and untracked, minus ignored files)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True, timeout=60).stdout
        names = [n.decode() for n in out.split(b"\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = None
    if names is None:  # not a git checkout: copy the folders pyproject.toml packages
        shutil.copytree(ROOT, dst, ignore=shutil.ignore_patterns(
            ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"))
        return
    for n in names:
        src = ROOT / n
        if src.is_file():
            (dst / n).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / n)


def test_wheel_with_tflite_extra_recognizes_without_tensorflow(tmp_path, sketch_bundle, test_drawings):
    src, dist, venv = tmp_path / "src", tmp_path / "dist", tmp_path / "venv"
    _copy_source(src)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)], "building the wheel")
    (wheel,) = dist.glob("inkcast-*.whl")

    _run([sys.executable, "-m", "venv", str(venv)], "creating a venv")
    vpy = venv / "bin" / "python"
    _run([str(vpy), "-m", "pip", "install", "-q", "--disable-pip-version-check",
          f"inkcast[tflite] @ {wheel.as_uri()}"], 'pip install "inkcast[tflite]"')

    drawing = test_drawings[0]["drawing"]
    (tmp_path / "drawing.json").write_text(json.dumps(drawing))
    (tmp_path / "probe.py").write_text(PROBE)
    res = _run([str(vpy), str(tmp_path / "probe.py"), str(sketch_bundle), str(tmp_path / "drawing.json"),
                ",".join(TF_MODULES)], "recognizing with the installed wheel", cwd=tmp_path)
    out = json.loads(res.stdout.strip().splitlines()[-1])

    # the wheel's runtime ran, not the repository's sources
    assert Path(out["runtime_file"]).resolve().is_relative_to(venv.resolve()), out["runtime_file"]
    dists = {d.lower().replace("_", "-") for d in out["dists"]}
    assert {"inkcast", "numpy", "ai-edge-litert"} <= dists, sorted(dists)
    assert not dists & TF_DISTS and not any(d.startswith("tensorflow") for d in dists), sorted(dists)
    assert "onnxruntime" not in dists, "the tflite extra alone must not pull in onnxruntime"
    assert not dists & SIGNING_DISTS, "the runtime install must not pull in a signing library"
    assert "mediapipe" not in dists, "the TFLite metadata writer is export's, in an environment of its own"
    assert out["tf_modules"] == [] and out["tf_attempted"] == [], out

    labels = json.loads((sketch_bundle / "manifest.json").read_text())["labels"]
    assert len(out["top"]) == 3 and all(label in labels for label, _ in out["top"])
    # the same answer as the runtime this test session runs (same bundle, same drawing)
    from inkcast.runtime import SketchRecognizer

    want = SketchRecognizer(sketch_bundle, backend="tflite").probabilities(drawing)
    assert out["top"][0][0] == labels[int(np.argmax(want))]
    np.testing.assert_allclose(out["p"], want, atol=1e-4)
