"""The training-length grid as a table: each data size's runs side by side (``experiments/schedule.sh``).

A run folder is named SIZE-LENGTH (``q250-6000``: 5 categories x 250 drawings, step floor 6000;
``-e24``: the old fixed 24 passes). For each size the table marks the best validation top-1 and
how far each run is from it, which is the issue's bar for the default (within 1 point).

    python -m experiments.schedule_table runs/sched
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path)
    a = ap.parse_args(argv)
    print("| data | train / validation drawings | length | rule | steps | passes | validation top-1 (± 1 s.e.) | "
          "behind best | test top-1 | training s |")
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    order = {"e24": 0}
    for size, runs in sorted(rows_of(a.folder).items(), key=lambda kv: kv[1][0]["train"]):
        best = max(r["val"] for r in runs)
        for r in sorted(runs, key=lambda r: order.get(r["length"], 1) and int(r["length"])):
            length = "24 passes" if r["length"] == "e24" else f"floor {r['length']}" + (" (default)" if r["length"] == DEFAULT_FLOOR else "")
            se = 100 * (r["val"] / 100 * (1 - r["val"] / 100) / r["validation"]) ** 0.5  # binomial standard error
            print(f"| {size} ({r['categories']} categories) | {r['train']} / {r['validation']} | {length} | {r['rule']} | "
                  f"{r['steps']} | {r['passes']:.0f} | {r['val']:.2f} % (± {se:.1f}) | {best - r['val']:.2f} | "
                  f"{r['test']:.2f} % | {r['seconds']:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
