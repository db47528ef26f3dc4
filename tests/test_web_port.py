"""The JavaScript port (``web/``) against the suite's bundle's conformance.json, with Node's own
test runner and onnxruntime-web from the npm registry (pinned in ``web/package-lock.json``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[1] / "web"


@pytest.fixture(scope="module")
def node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    if not (WEB / "node_modules" / "onnxruntime-web").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed")
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    return node


def test_the_js_port_agrees_with_conformance_json(node, sketch_bundle):
    r = subprocess.run([node, "--test", "test/"], cwd=WEB, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "INKCAST_BUNDLE": str(sketch_bundle)})
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    assert "# fail 0" in out and "ok 2 - every step of every vector" in out
    assert "top-3 of onnx-float32" in out and "top-3 of onnx-static-int8" in out
