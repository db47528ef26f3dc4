"""Cold start in a fresh process: import + load + first prediction, and that process's peak memory.

Each measurement starts a new Python interpreter (``sys.executable -c CODE``) that imports nothing
before its first clock reading, then

1. imports the runtime and the variant's backend package (``ai_edge_litert`` or ``onnxruntime``);
2. loads the bundle variant through the public API (manifest, sha256 check, model load);
3. predicts one real test item.

The child reports its own clock readings, its resident memory after each step (``VmRSS``) and its
peak (``VmHWM`` from ``/proc/self/status``); it also reports whether TensorFlow got imported (it
must not). The parent adds the wall time from spawn to exit, which includes the interpreter's own
start. Neither ``ru_maxrss`` works here: Linux carries ``RUSAGE_SELF``'s maximum across
``fork``+``exec``, so a child of a 140 MB benchmark process reports at least 140 MB (we measured
exactly that), and ``RUSAGE_CHILDREN`` is the maximum over *all* children so far, so it would mix
this process with earlier ones (the Keras reference). ``VmHWM`` belongs to the new address space.

"Cold" means a fresh process, not a cold disk cache: the files are in the page cache after the
first repeat, as they are on a device that starts the app again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from inkcast import HEAVY_MODULES

from .stats import median_spread

BACKEND_MODULES = {"tflite": "ai_edge_litert.interpreter", "onnx": "onnxruntime"}

CHILD = r'''
import time
_t0 = time.perf_counter()
import json, resource, sys
_attempted = []
class _Watch:  # records every attempt to import a training-side module, even one that would fail
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {heavy!r}:
            _attempted.append(name)
        return None
sys.meta_path.insert(0, _Watch())
def _status(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
def _rss():
    return _status("VmRSS")
BUNDLE, VARIANT, THREADS = {bundle!r}, {variant!r}, {threads!r}
import inkcast.runtime
import {backend_module}
_t1 = time.perf_counter(); _rss1 = _rss()
{load_code}
_t2 = time.perf_counter(); _rss2 = _rss()
with open({item_file!r}) as _f:
    ITEM = json.load(_f)
_t2b = time.perf_counter()
{predict_code}
_t3 = time.perf_counter(); _rss3 = _rss()
print("INKCAST_COLDSTART " + json.dumps({{
    "import_ms": (_t1 - _t0) * 1e3, "load_ms": (_t2 - _t1) * 1e3, "first_prediction_ms": (_t3 - _t2b) * 1e3,
    "in_process_ms": (_t3 - _t0) * 1e3 - (_t2b - _t2) * 1e3,
    "rss_after_import_mb": _rss1, "rss_after_load_mb": _rss2, "rss_after_prediction_mb": _rss3,
    "peak_rss_mb": _status("VmHWM"), "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    "tensorflow_imported": "tensorflow" in sys.modules, "heavy_imports_attempted": sorted(set(_attempted))}}))
'''


def child_code(task, bundle_dir: Path, variant: str, backend: str, num_threads: int, item_file: Path) -> str:
    load_code, predict_code = task.coldstart_code()
    return CHILD.format(bundle=str(bundle_dir), variant=variant, threads=num_threads, heavy=HEAVY_MODULES,
                        backend_module=BACKEND_MODULES[backend], load_code=load_code,
                        predict_code=predict_code, item_file=str(item_file))


def run_once(code: str, timeout: float = 120.0, python: str = sys.executable, cwd: str | None = None) -> dict:
    """One fresh ``python -c code``: the figures it prints, plus wall time from spawn to exit
    (``process_ms``)."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    t0 = time.perf_counter()
    p = subprocess.Popen([python, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    try:
        out_b, err_b = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise RuntimeError(f"cold-start process did not finish in {timeout:.0f} s") from None
    wall = (time.perf_counter() - t0) * 1e3
    line = next((ln for ln in out_b.decode().splitlines() if ln.startswith("INKCAST_COLDSTART ")), None)
    if p.returncode != 0 or line is None:
        raise RuntimeError(f"cold-start process failed (exit {p.returncode}): {err_b.decode().strip()[-2000:]}")
    out = json.loads(line.split(" ", 1)[1])
    out["process_ms"] = wall
    return out


def measure_coldstart(task, bundle, configs: list[tuple[str, str, str, int]], item, repeats: int,
                      progress: Callable[[str], None] = lambda s: None) -> dict:
    """Cold start of each (variant, backend, threads label, num_threads), ``repeats`` times each.

    Repeats are interleaved (all configurations once, then again) so load on the machine spreads
    over all of them. Returns ``{variant: {threads: summary}}``."""
    raw: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="inkcast-coldstart-") as tmp:
        item_file = Path(tmp) / "item.json"
        item_file.write_text(task.item_json(item), encoding="utf-8")
        codes = {(v, t): child_code(task, bundle.root.resolve(), v, b, n, item_file) for v, b, t, n in configs}
        t0 = time.monotonic()
        for r in range(repeats):
            for (v, t), code in codes.items():
                raw.setdefault((v, t), []).append(run_once(code))
            progress(f"cold start repeat {r + 1}/{repeats} ({len(codes)} processes, {time.monotonic() - t0:.0f} s)")
    out: dict[str, dict] = {}
    for (v, t), runs in raw.items():
        summary = {k: median_spread([r[k] for r in runs]) for k in (
            "process_ms", "in_process_ms", "import_ms", "load_ms", "first_prediction_ms",
            "rss_after_import_mb", "rss_after_load_mb", "peak_rss_mb") if all(r.get(k) is not None for r in runs)}
        summary["tensorflow_imported"] = any(r["tensorflow_imported"] for r in runs)
        out.setdefault(v, {})[t] = summary
    return out
