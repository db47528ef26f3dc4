#!/usr/bin/env python3
"""The runtime's footprint as a user gets it: `pip install "inkcast[tflite]"` / `"inkcast[onnx]"`.

For each extra this builds the inkcast wheel from the working tree (a copy of it, so the tree is
never written to), installs it with that extra into a fresh venv, and measures:

* the installed size of the venv's site-packages (and the biggest distributions in it);
* that no TensorFlow distribution is installed and that no ``tensorflow`` (or tf_keras, keras,
  tf2onnx) import is even attempted while recognizing a real drawing;
* cold start with ``inkcast bench``'s own harness (``benchmarks/coldstart.py``) run by the venv's
  Python: a fresh process that imports the runtime, loads the bundle (checksum verified) and
  makes its first prediction; wall time from spawn to exit, median of --runs after one warm-up
  run (page cache warm, as for any repeated launch), plus the in-process phase breakdown;
* peak RSS of that process (its ``ru_maxrss``).

Budgets (issue #7, this 2-core x86-64 machine): cold start <= 0.3 s and peak RSS <= 80 MB for the
int8 sketch variant through LiteRT; while a bundle has no int8 variant its float32 TFLite variant
is measured and the report says so. When a budget is missed the report shows where the time goes
(``python -X importtime``) and how memory grows phase by phase. Exit status 1 when TensorFlow
shows up or a budget is missed (``--report-only`` turns the latter off), 2 on usage errors.

    python experiments/footprint.py --bundle bundles/sketch
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inkcast.benchmarks.coldstart import child_code, run_once
from inkcast.tasks import spec_for

REPO = Path(__file__).resolve().parents[1]
TF_DISTS = ("tensorflow", "tf-keras", "tf_keras", "tf-nightly", "keras", "tf2onnx", "tensorflow-cpu")
BUDGET_COLD_S = 0.3
BUDGET_RSS_MB = 80.0


def build_wheel(python: str, out: Path) -> Path:
    """Build the inkcast wheel from a copy of the working tree (tracked + untracked, not ignored)."""
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout.split(b"\0")
    with tempfile.TemporaryDirectory(prefix="inkcast-src-") as src:
        for f in files:
            if f:
                p = REPO / f.decode()
                if p.is_file():
                    dst = Path(src) / f.decode()
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(p, dst)
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("inkcast-*.whl"):
            old.unlink()
        res = subprocess.run([python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), src],
                             capture_output=True, text=True)
        if res.returncode != 0:
            raise SystemExit(f"footprint: building the wheel failed:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    (wheel,) = out.glob("inkcast-*.whl")
    return wheel


def tree_size(root: Path) -> tuple[int, int]:
    """(apparent bytes, bytes on disk) of every file under root."""
    app = disk = 0
    for dirpath, _, names in os.walk(root):
        for n in names:
            st = os.lstat(os.path.join(dirpath, n))
            app += st.st_size
            disk += st.st_blocks * 512
    return app, disk


DISTS = r"""
import json, os, sysconfig
from importlib import metadata
site = sysconfig.get_paths()["purelib"]
out = []
for d in metadata.distributions():
    size = 0
    for f in d.files or []:
        p = os.path.join(site, str(f))
        if os.path.isfile(p):
            size += os.path.getsize(p)
    out.append([d.metadata["Name"], d.version, size])
print(json.dumps({"site": site, "dists": out}))
"""


def measure_extra(extra: str, wheel: Path, python: str, work: Path, bundle: Path, variant: str,
                  drawing: list, runs: int) -> dict:
    venv = work / f"venv-{extra}"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    vpy = str(venv / "bin" / "python")
    t = time.perf_counter()
    res = subprocess.run([vpy, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          f"inkcast[{extra}] @ {wheel.as_uri()}"], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"footprint: pip install inkcast[{extra}] failed:\n{res.stderr[-3000:]}")
    install_s = time.perf_counter() - t
    # cwd=work: run from the repo, '' on sys.path would also list the repo's inkcast.egg-info
    info = json.loads(subprocess.run([vpy, "-c", DISTS], capture_output=True, text=True, check=True, cwd=work).stdout)
    site = Path(info["site"])
    app, disk = tree_size(site)
    dists = sorted(info["dists"], key=lambda d: -d[2])
    tf_dists = [f"{n} {v}" for n, v, _ in dists if n.lower().replace("_", "-") in TF_DISTS
                or n.lower().startswith("tensorflow")]
    pip_like = sum(s for n, _, s in dists if n.lower() in ("pip", "setuptools"))

    code = probe_code(bundle, variant, backend_of(bundle, variant), work / "item.json", drawing)
    first = run_once(code, python=vpy, cwd=str(work))  # warm-up: page cache, .pyc files
    samples = [run_once(code, python=vpy, cwd=str(work)) for _ in range(runs)]
    med = lambda key: statistics.median(s[key] for s in samples)  # noqa: E731
    return {
        "extra": extra, "variant": variant, "venv": str(venv), "install_s": install_s,
        "site_packages_bytes": app, "site_packages_disk_bytes": disk, "pip_setuptools_bytes": pip_like,
        "dists": dists, "tf_dists": tf_dists,
        "tf_modules": [] if not any(s["tensorflow_imported"] for s in [first, *samples]) else ["tensorflow"],
        "tf_attempted": sorted({m for s in [first, *samples] for m in s["heavy_imports_attempted"]}),
        "first_run_wall_s": first["process_ms"] / 1e3, "cold_start_s": med("process_ms") / 1e3,
        "cold_start_runs_s": [s["process_ms"] / 1e3 for s in samples], "in_process_s": med("in_process_ms") / 1e3,
        "phases_s": {k: med(f"{k}_ms") / 1e3 for k in ("import", "load", "first_prediction")},
        "peak_rss_mb": med("ru_maxrss_mb"), "peak_rss_max_mb": max(s["ru_maxrss_mb"] for s in samples),
        "mem_mb": {k: samples[-1][f"rss_after_{k}_mb"] for k in ("import", "load", "prediction")},
    }


def backend_of(bundle: Path, variant: str) -> str:
    return json.loads((bundle / "manifest.json").read_text())["variants"][variant]["backend"]


def probe_code(bundle: Path, variant: str, backend: str, item_file: Path, drawing: list) -> str:
    """The cold-start harness's child program (benchmarks/coldstart.py) for one sketch variant."""
    item_file.write_text(json.dumps(drawing), encoding="utf-8")
    return child_code(spec_for("sketch"), bundle, variant, backend, 1, item_file)


def importtime_report(vpy: str, code: str, cwd: Path, n: int = 12) -> list[str]:
    """The n slowest imports (cumulative) of one cold start, from python -X importtime."""
    res = subprocess.run([vpy, "-X", "importtime", "-c", code], capture_output=True, text=True, cwd=cwd)
    rows = []
    for line in res.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2]
        # nesting shows as indentation: keep top-level imports and their direct children
        if len(name) - len(name.lstrip()) <= 3:
            rows.append((int(parts[1]), int(parts[0]), name))
    rows.sort(reverse=True)
    return [f"    {cum / 1e3:8.1f} ms cumulative {self_ / 1e3:7.1f} ms self  {name.strip()}" for cum, self_, name in rows[:n]]


def pick_variant(bundle: Path, backend: str) -> tuple[str, str]:
    """(variant, note): the int8 variant of a backend when the bundle has one, else its float32."""
    variants = json.loads((bundle / "manifest.json").read_text())["variants"]
    mine = {n: v for n, v in variants.items() if v.get("backend") == backend}
    if not mine:
        raise SystemExit(f"footprint: {bundle} has no {backend} variant")
    # the fully integer variant first (int8 in, int8 out), then other int8 flavours
    for n in [f"{backend}-int8", f"{backend}-static-int8", *sorted(n for n in mine if "int8" in n)]:
        if n in mine:
            return n, ""
    n = f"{backend}-float32" if f"{backend}-float32" in mine else sorted(mine)[0]
    return n, f"the bundle has no {backend} int8 variant yet: measured {n} instead"


def first_drawing(data: Path) -> list:
    files = sorted(data.glob("*.ndjson"))
    if not files:
        raise SystemExit(f"footprint: no *.ndjson drawings in {data} (set --data)")
    with open(files[0], encoding="utf-8") as f:
        return json.loads(f.readline())["drawing"]


def mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", default="/work/bundles/sketch-small", help="a sketch bundle folder")
    ap.add_argument("--data", default=os.environ.get("INKCAST_DATA", str(REPO.parent / "shared" / "data")) + "/quickdraw",
                    help="Quick, Draw! ndjson folder; the first drawing of the first file is recognized")
    ap.add_argument("--extras", default="tflite,onnx")
    ap.add_argument("--runs", type=int, default=5, help="cold starts measured per extra (after one warm-up)")
    ap.add_argument("--python", default=sys.executable, help="the Python that makes the venvs (default: this one)")
    ap.add_argument("--work", default=None, help="where the venvs go (default: a temporary folder, removed)")
    ap.add_argument("--wheel", default=None, help="an already built inkcast wheel (default: build one)")
    ap.add_argument("--json", default=None, help="also write every figure to this JSON file")
    ap.add_argument("--report-only", action="store_true", help="exit 0 even when a budget is missed")
    a = ap.parse_args(argv)
    bundle = Path(a.bundle).resolve()
    if not (bundle / "manifest.json").is_file():
        print(f"footprint: {bundle}: not a bundle (no manifest.json)", file=sys.stderr)
        return 2
    drawing = first_drawing(Path(a.data))
    tmp = None
    work = Path(a.work) if a.work else Path(tmp := tempfile.mkdtemp(prefix="inkcast-footprint-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        wheel = Path(a.wheel) if a.wheel else build_wheel(a.python, work / "dist")
        pyver = subprocess.run([a.python, "-c", "import platform; print(platform.python_version())"],
                               capture_output=True, text=True).stdout.strip()
        print(f"footprint: {wheel.name}, Python {pyver}, {os.uname().machine}, {os.cpu_count()} CPUs, bundle {bundle}")
        results, failed = [], []
        for extra in [e.strip() for e in a.extras.split(",") if e.strip()]:
            backend = {"tflite": "tflite", "onnx": "onnx"}[extra]
            variant, note = pick_variant(bundle, backend)
            r = measure_extra(extra, wheel, a.python, work, bundle, variant, drawing, a.runs)
            r["note"] = note
            results.append(r)
            print(f"\n== pip install \"inkcast[{extra}]\" (fresh venv, {r['install_s']:.0f} s to install)")
            print(f"  site-packages     {mb(r['site_packages_bytes'])} ({mb(r['site_packages_disk_bytes'])} on disk;"
                  f" {mb(r['site_packages_bytes'] - r['pip_setuptools_bytes'])} without the venv's own pip/setuptools)")
            print("  largest           " + ", ".join(f"{n} {v} {mb(s)}" for n, v, s in r["dists"][:5]))
            print("  installed         " + ", ".join(f"{n} {v}" for n, v, _ in sorted(r["dists"], key=lambda d: d[0].lower())))
            ok_tf = not (r["tf_dists"] or r["tf_modules"] or r["tf_attempted"])
            print(f"  TensorFlow        {'none: not installed, never imported, never even looked up' if ok_tf else 'FOUND'}"
                  + ("" if ok_tf else f" dists={r['tf_dists']} modules={r['tf_modules']} attempted={r['tf_attempted']}"))
            if not ok_tf:
                failed.append(f"{extra}: TensorFlow present")
            ph = "  ".join(f"{k} {v * 1e3:.0f}" for k, v in r["phases_s"].items())
            print(f"  variant           {variant}" + (f"  ({note})" if note else ""))
            print(f"  cold start        {r['cold_start_s']:.3f} s median of {a.runs} (runs {', '.join(f'{x:.3f}' for x in r['cold_start_runs_s'])};"
                  f" first-ever run {r['first_run_wall_s']:.3f} s);"
                  f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            print(f"    in the process  {r['in_process_s'] * 1e3:.0f} ms: {ph} ms; interpreter start+exit"
                  f" ~{(r['cold_start_s'] - r['in_process_s']) * 1e3:.0f} ms")
            m = r["mem_mb"]
            print(f"  peak RSS          {r['peak_rss_mb']:.1f} MB median (max {r['peak_rss_max_mb']:.1f});"
                  f" RSS after import {m['import']:.0f}, load {m['load']:.0f}, first prediction {m['prediction']:.0f} MB")
            if backend == "tflite":
                budget = []
                if r["cold_start_s"] > BUDGET_COLD_S:
                    budget.append(f"cold start {r['cold_start_s']:.3f} s > {BUDGET_COLD_S} s")
                if r["peak_rss_mb"] > BUDGET_RSS_MB:
                    budget.append(f"peak RSS {r['peak_rss_mb']:.1f} MB > {BUDGET_RSS_MB:.0f} MB")
                verdict = "MISSED: " + "; ".join(budget) if budget else "met"
                print(f"  budget            cold start <= {BUDGET_COLD_S} s, peak RSS <= {BUDGET_RSS_MB:.0f} MB: {verdict}"
                      + (" (float32 stand-in for int8)" if note else ""))
                r["budget_missed"] = budget
                if budget:
                    failed.append(f"{extra}: " + "; ".join(budget))
                    print("  where the time goes (python -X importtime, slowest imports):")
                    code = probe_code(bundle, variant, backend, work / "item.json", drawing)
                    print("\n".join(importtime_report(str(Path(r["venv"]) / "bin" / "python"), code, work)))
        if a.json:
            Path(a.json).write_text(json.dumps({"wheel": wheel.name, "python": pyver, "results": results}, indent=1))
        print()
        if failed:
            print("footprint: " + " | ".join(failed))
            return 0 if a.report_only and not any("TensorFlow" in f for f in failed) else 1
        print("footprint: no TensorFlow anywhere; LiteRT budgets met")
        return 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
