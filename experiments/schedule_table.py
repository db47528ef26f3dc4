"""The training-length grid as a table: each data size's runs side by side (``experiments/schedule.sh``).

A run folder is named SIZE-LENGTH (``q250-6000``: 5 categories x 250 drawings, step floor 6000;
``-e24``: the old fixed 24 passes). For each size the table marks the best validation top-1 and
how far each run is from it, which is the issue's bar for the default (within 1 point).

    python -m experiments.schedule_table runs/sched
    python -m experiments.schedule_table runs/sched runs/sched-s8     # the means of two seeds
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from inkcast.training.sketch_options import SketchTrainOptions

DEFAULT_FLOOR = str(SketchTrainOptions().min_steps)  # the length the default command trains


def rows_of(folder: Path) -> dict[str, list[dict]]:
    sizes: dict[str, list[dict]] = defaultdict(list)
    for f in sorted(folder.glob("*/metrics.json")):
        m = json.loads(f.read_text())
        size, _, length = f.parent.name.rpartition("-")
        s = m.get("schedule") or {}
        sizes[size].append({"run": f.parent.name, "length": length, "categories": len(m["per_category_top1"]),
                            "train": m["drawings"]["train"], "validation": m["drawings"]["validation"],
                            "rule": s.get("rule"), "steps": s.get("total_steps"), "passes": s.get("passes_total"),
                            "val": 100 * m["validation_accuracy"], "test": 100 * m["top1"],
                            "seconds": m["training_seconds"], "rise": m.get("validation_rise_points")})
    return sizes


def label(length: str) -> str:
    return "24 passes" if length == "e24" else f"floor {length}" + (" (default)" if length == DEFAULT_FLOOR else "")


def length_order(length: str) -> int:
    return -1 if length == "e24" else int(length)


def print_runs(folder: Path) -> None:
    """One seed's grid: every run, and how far each is from its size's best on validation."""
    print("| data | train / validation drawings | length | rule | steps | passes | validation top-1 (± 1 s.e.) | "
          "behind best | test top-1 | training s |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size, runs in sorted(rows_of(folder).items(), key=lambda kv: kv[1][0]["train"]):
        best = max(r["val"] for r in runs)
        for r in sorted(runs, key=lambda r: length_order(r["length"])):
            se = 100 * (r["val"] / 100 * (1 - r["val"] / 100) / r["validation"]) ** 0.5  # binomial standard error
            print(f"| {size} ({r['categories']} categories) | {r['train']} / {r['validation']} | {label(r['length'])} | "
                  f"{r['rule']} | {r['steps']} | {r['passes']:.0f} | {r['val']:.2f} % (± {se:.1f}) | "
                  f"{best - r['val']:.2f} | {r['test']:.2f} % | {r['seconds']:.0f} |")


def print_means(folders: list[Path]) -> None:
    """Several seeds' grids (one folder a seed): the mean of each size and length that every
    folder has, and how far each mean is from its size's best mean on validation."""
    grids = [rows_of(f) for f in folders]
    print(f"| data | length | validation top-1, mean of {len(folders)} seeds | each seed | behind best | "
          "test top-1, mean |")
    print("| --- | --- | ---: | --- | ---: | ---: |")
    for size in sorted(set.intersection(*(set(g) for g in grids)), key=lambda s: grids[0][s][0]["train"]):
        by_length = [{r["length"]: r for r in g[size]} for g in grids]
        lengths = sorted(set.intersection(*(set(b) for b in by_length)), key=length_order)
        if not lengths:
            continue
        means = {n: sum(b[n]["val"] for b in by_length) / len(grids) for n in lengths}
        best = max(means.values())
        for n in lengths:
            test = sum(b[n]["test"] for b in by_length) / len(grids)
            seeds = " / ".join(f"{b[n]['val']:.2f}" for b in by_length)
            print(f"| {size} | {label(n)} | {means[n]:.2f} % | {seeds} | {best - means[n]:.2f} | {test:.2f} % |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", type=Path, nargs="+", help="one grid folder; several (one a seed): their means")
    a = ap.parse_args(argv)
    if len(a.folders) == 1:
        print_runs(a.folders[0])
    else:
        print_means(a.folders)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
