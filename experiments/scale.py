"""Scale, measured (issue #14): preparation throughput, and streaming training's peak RSS and
drawings/s, at 20 k, 200 k and 2 M drawings.

There are 20,000 real drawings here (five categories), so the large sets are the real drawings
replicated with augmentation: each copy is the drawing rotated (+-15 degrees), sheared (+-0.2)
and stretched (0.8-1.2 per axis), put back into Google's 0..255 frame and rounded, with a new
numeric key_id (the original's times 1,000 plus the copy's number). Copies are as long as real
drawings and split by key_id hash like them; they are not new drawings, so accuracy figures on
these sets mean little -- the sets measure cost.

    python -m experiments.scale build --sizes 20000,200000,2000000 --out /work/scale
    python -m experiments.scale prepare --out /work/scale            # -> prepare.json
    python -m experiments.scale train --out /work/scale --steps 200  # -> train.json

Each measurement runs in a fresh process; peak RSS is the child's VmHWM (/proc/self/status).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "quickdraw"


def augmented_copy(drawing: list, rng: np.random.Generator) -> list:
    """One drawing rotated, sheared and stretched, back in the 0..255 frame, rounded."""
    pts = [np.array(s, dtype=np.float64).T for s in drawing]
    t = math.radians(rng.uniform(-15, 15))
    m = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    m = m @ np.array([[1, rng.uniform(-0.2, 0.2)], [rng.uniform(-0.2, 0.2), 1]]) @ np.diag(rng.uniform(0.8, 1.2, 2))
    moved = [p @ m.T for p in pts]
    allp = np.concatenate(moved)
    lo, extent = allp.min(0), max(float((allp.max(0) - allp.min(0)).max()), 1e-9)
    out = []
    for p in moved:
        q = np.round((p - lo) * (255.0 / extent)).astype(int)
        keep = np.r_[True, (np.diff(q, axis=0) != 0).any(1)]
        q = q[keep]
        if len(q) == 1:
            q = np.vstack([q, q])
        out.append([q[:, 0].tolist(), q[:, 1].tolist()])
    return out


def build(sizes: list[int], out: Path, data: Path) -> None:
    cats = sorted(p.stem for p in data.glob("*.ndjson"))
    real = {c: [json.loads(line) for line in open(data / f"{c}.ndjson", encoding="utf-8")] for c in cats}
    for n in sizes:
        folder = out / f"src-{n}"
        if folder.is_dir():
            print(f"{folder}: there")
            continue
        tmp = out / f".src-{n}"
        tmp.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(n)
        per = n // len(cats)
        t0 = time.monotonic()
        for c in cats:
            with open(tmp / f"{c}.ndjson", "w", encoding="utf-8") as f:
                for i in range(per):
                    src = real[c][i % len(real[c])]
                    copy = i // len(real[c])
                    rec = dict(src)
                    if copy:
                        rec["key_id"] = str(int(src["key_id"]) * 1000 + copy)
                        rec["drawing"] = augmented_copy(src["drawing"], rng)
                    f.write(json.dumps(rec, separators=(",", ":")) + "\n")
        tmp.rename(folder)
        print(f"{folder}: {per * len(cats):,} drawings in {time.monotonic() - t0:.0f} s", flush=True)


def _child(argv: list[str]) -> dict:
    """Run ``python -m experiments.scale <argv>`` in a fresh process; its last line is JSON."""
    out = subprocess.run([sys.executable, "-m", "experiments.scale", *argv], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def prepare_one(src: Path, dst: Path) -> dict:
    import tensorflow as tf  # noqa: F401  imported before the clock starts
    import tensorflow_datasets as tfds

    from inkcast.datasets.quickdraw_strokes import prepare

    tfds.disable_progress_bar()
    c0, t0 = _cpu(), time.monotonic()
    b = prepare(src, dst)
    wall, cpu = time.monotonic() - t0, _cpu() - c0
    n = sum(int(s.num_examples) for s in b.info.splits.values())
    return {"drawings": n, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "drawings_per_s": round(n / wall), "drawings_per_cpu_s": round(n / cpu),
            "bytes_on_disk": sum(p.stat().st_size for p in dst.rglob("*.tfrecord*")), "peak_rss_mb": round(_peak_rss_mb())}


def train_one(data: Path, run: Path, steps: int | None, epochs: int) -> dict:
    from inkcast.training.sketch_options import SketchTrainOptions
    from inkcast.training.train_sketch import train_sketch_from_folder

    t0 = time.monotonic()
    m = train_sketch_from_folder(data, run, SketchTrainOptions(epochs=epochs, steps_per_epoch=steps))
    return {"drawings": m["drawings"], "streamed": m["streamed"], "training_drawings_per_second":
            m["training_drawings_per_second"], "seconds_per_epoch": m["seconds_per_epoch"],
            "steps_per_epoch": steps, "epochs": epochs, "top1": m["top1"], "total_s": round(time.monotonic() - t0),
            "peak_rss_mb": round(_peak_rss_mb())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.scale", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--sizes", default="20000,200000,2000000")
    b.add_argument("--out", required=True, type=Path)
    b.add_argument("--data", type=Path, default=DEFAULT_DATA)
    pr = sub.add_parser("prepare")
    pr.add_argument("--out", required=True, type=Path)
    tr = sub.add_parser("train")
    tr.add_argument("--out", required=True, type=Path)
    tr.add_argument("--steps", type=int, default=200, help="training batches per epoch (None: the whole split)")
    tr.add_argument("--epochs", type=int, default=1)
    one = sub.add_parser("one")  # a single measurement, in its own process
    one.add_argument("what", choices=["prepare", "train"])
    one.add_argument("src", type=Path)
    one.add_argument("dst", type=Path)
    one.add_argument("--steps", type=int)
    one.add_argument("--epochs", type=int, default=1)
    a = p.parse_args(argv)
    if a.cmd == "build":
        build([int(s) for s in a.sizes.split(",")], a.out, a.data)
    elif a.cmd == "one":
        r = prepare_one(a.src, a.dst) if a.what == "prepare" else train_one(a.src, a.dst, a.steps, a.epochs)
        print(json.dumps(r))
    else:
        results = {}
        for src in sorted(a.out.glob("src-*"), key=lambda p: int(p.name.split("-")[1])):
            n = src.name.split("-")[1]
            if a.cmd == "prepare":
                dst = a.out / f"tfds-{n}"
                subprocess.run(["rm", "-rf", str(dst)], check=True)
                results[n] = _child(["one", "prepare", str(src), str(dst)])
            else:
                run = a.out / f"run-{n}"
                subprocess.run(["rm", "-rf", str(run)], check=True)
                argv = ["one", "train", str(a.out / f"tfds-{n}"), str(run), "--epochs", str(a.epochs)]
                results[n] = _child(argv + (["--steps", str(a.steps)] if a.steps else []))
            print(n, json.dumps(results[n]), flush=True)
        (a.out / f"{a.cmd}.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
