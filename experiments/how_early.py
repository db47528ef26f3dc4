"""How early the sketch recognizer knows, and what one prediction costs by drawing length.

Two measurements over the test split (the key_id hash split of ``inkcast.data.quickdraw``):

* **how early** -- each drawing is fed stroke by stroke to ``SketchRecognizer.stream`` (whose
  answer after k strokes is exactly ``predict`` on the first k strokes). For the *final label* --
  the recognizer's top-1 on the whole drawing -- it reports after what fraction of the strokes
  (k / n) that label first appears in the top-1 and in the top-3, as mean and median, over all
  drawings and over drawings of two or more strokes (one-stroke drawings count 1.0 by definition).
  "Stays" variants give the fraction from which the label never leaves the top-1/top-3 again,
  and the same is reported for the *true* label where the recognizer gets it right at the end.
* **latency by length** -- model time per drawing (batch 1, the preprocessed rows ready) for
  short (<= 10th percentile of rows), median (within 2 rows of the median) and long (>= 90th
  percentile) test drawings, run at the drawing's own length and left-padded with zero rows to
  128. The model is padding-invariant, so both give the same probabilities (checked: the largest
  difference is reported); the free time axis lets a device skip the padding.

Run from the repository root: ``python -m experiments.how_early --bundle DIR [--data DIR] [--json FILE]``.
The functions are importable for notebooks and tests. No TensorFlow is imported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from inkcast.data.quickdraw import split_records
from inkcast.runtime import SketchRecognizer
from inkcast.runtime.errors import InkcastError
from inkcast.runtime.sketch_preprocess import MAX_POINTS, pad_left

# The shared data beside the checkout (INKCAST_DATA overrides), as the tests find it.
DEFAULT_DATA = Path(os.environ.get("INKCAST_DATA", "../shared/data")) / "quickdraw"


# ---------------------------------------------------------------- how early


def prefix_answers(recognizer: SketchRecognizer, drawing: Sequence, top_k: int = 3) -> list[list[str]]:
    """The top-k labels after each stroke (k = 1..n); [] where a prefix is a single spot."""
    stream = recognizer.stream(top_k=top_k)
    return [[label for label, _ in stream.add_stroke(stroke)] for stroke in drawing]


def first_index(hits: list[bool]) -> int | None:
    """1-based index of the first True, or None."""
    return next((k for k, h in enumerate(hits, 1) if h), None)


def stays_from(hits: list[bool]) -> int | None:
    """1-based index from which every entry is True (None if the last is False)."""
    if not hits or not hits[-1]:
        return None
    k = len(hits)
    while k > 1 and hits[k - 2]:
        k -= 1
    return k


def how_early(recognizer: SketchRecognizer, records: Sequence[dict]) -> dict[str, Any]:
    """The "how early" report (see the module doc) for records with ``drawing`` and ``word``."""
    rows = []
    for rec in records:
        d = rec["drawing"]
        answers = prefix_answers(recognizer, d, top_k=3)
        final = answers[-1][0]
        n = len(d)
        row = {"strokes": n, "final": final, "word": rec.get("word")}
        for name, label in (("final", final), ("true", rec.get("word"))):
            if name == "true" and label != final:
                continue  # the true label only where the recognizer ends up right
            top1 = [bool(a) and a[0] == label for a in answers]
            top3 = [label in a for a in answers]
            row[f"{name}_top1_first"] = first_index(top1)
            row[f"{name}_top3_first"] = first_index(top3)
            row[f"{name}_top1_stays"] = stays_from(top1)
            row[f"{name}_top3_stays"] = stays_from(top3)
        rows.append(row)

    def block(name: str, subset: list[dict]) -> dict[str, Any]:
        out: dict[str, Any] = {"drawings": len(subset)}
        for key in ("top1_first", "top3_first", "top1_stays", "top3_stays"):
            fr = [r[f"{name}_{key}"] / r["strokes"] for r in subset if r.get(f"{name}_{key}") is not None]
            out[key] = {
                "mean": round(float(np.mean(fr)), 4) if fr else None,
                "median": round(float(np.median(fr)), 4) if fr else None,
                "share_at_first_stroke": round(float(np.mean(
                    [r[f"{name}_{key}"] == 1 for r in subset if r.get(f"{name}_{key}") is not None])), 4)
                if fr else None,
            }
        return out

    multi = [r for r in rows if r["strokes"] > 1]
    right = [r for r in rows if r["word"] == r["final"]]
    return {
        "drawings": len(rows),
        "multi_stroke_drawings": len(multi),
        "mean_strokes": round(float(np.mean([r["strokes"] for r in rows])), 3),
        "final_top1_accuracy": round(len(right) / len(rows), 4) if rows else None,
        "final_label": {"all": block("final", rows), "multi_stroke": block("final", multi)},
        "true_label_where_final_is_right": {
            "all": block("true", right),
            "multi_stroke": block("true", [r for r in right if r["strokes"] > 1]),
        },
    }


# ---------------------------------------------------------------- latency by length


def length_groups(lengths: Sequence[int], per_group: int) -> dict[str, list[int]]:
    """Indices of short (<= p10 rows), median (within 2 rows of p50) and long (>= p90) drawings."""
    lengths = np.asarray(lengths)
    p10, p50, p90 = np.percentile(lengths, [10, 50, 90])
    pick = {
        "short": np.flatnonzero(lengths <= p10),
        "median": np.flatnonzero(np.abs(lengths - p50) <= 2),
        "long": np.flatnonzero(lengths >= p90),
    }
    return {k: v[:per_group].tolist() for k, v in pick.items()}


def _p(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1e3, 4)


def latency_by_length(recognizer: SketchRecognizer, records: Sequence[dict], per_group: int = 40,
                      repeats: int = 5, pad_to: int = MAX_POINTS) -> dict[str, Any]:
    """Model time (ms, batch 1) per length group, at the drawing's own length and padded."""
    rows = [recognizer.features(r["drawing"]) for r in records]
    groups = length_groups([len(r) for r in rows], per_group)
    model = recognizer.model
    for r in rows[:5]:  # warm-up: first calls allocate
        model.invoke_one(r[None])
        model.invoke_one(pad_left([r], pad_to))
    out: dict[str, Any] = {}
    worst = 0.0
    for name, idx in groups.items():
        own_t, pad_t = [], []
        for i in idx:
            own = rows[i][None]
            padded = pad_left([rows[i]], pad_to)
            worst = max(worst, float(np.abs(model.invoke_one(own) - model.invoke_one(padded)).max()))
            for rep in range(repeats):
                pair = [("own", own), ("pad", padded)]
                if rep % 2:
                    pair.reverse()  # alternate the order so neither always runs second
                for which, x in pair:
                    t0 = time.perf_counter()
                    model.invoke_one(x)
                    (own_t if which == "own" else pad_t).append(time.perf_counter() - t0)
        lens = [len(rows[i]) for i in idx]
        out[name] = {
            "drawings": len(idx),
            "rows_min_median_max": [int(min(lens)), int(statistics.median(lens)), int(max(lens))],
            "own_length_p50_ms": _p(own_t, 50),
            "padded_p50_ms": _p(pad_t, 50),
            "own_length_p90_ms": _p(own_t, 90),
            "padded_p90_ms": _p(pad_t, 90),
            "speedup_p50": round(float(np.median(pad_t) / np.median(own_t)), 2),
        }
    out["max_abs_probability_difference_own_vs_padded"] = worst
    out["padded_to"] = pad_to
    out["repeats_per_drawing"] = repeats
    return out


# ---------------------------------------------------------------- command line


def environment(num_threads: int | None) -> dict[str, Any]:
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "load_average": load, "num_threads": num_threads}


def run(bundle: str | Path, data: str | Path, backends: Sequence[str] = ("tflite", "onnx"),
        per_category: int | None = None, per_group: int = 40, repeats: int = 5,
        num_threads: int | None = 1) -> dict[str, Any]:
    """Both measurements for each backend; the report as a JSON-ready dict."""
    records = split_records(data, "test", per_category=per_category)
    report: dict[str, Any] = {"bundle": str(bundle), "data": str(data), "split": "test",
                              "environment": environment(num_threads), "backends": {}}
    for backend in backends:
        rec = SketchRecognizer(bundle, backend=backend, num_threads=num_threads)
        t0 = time.perf_counter()
        early = how_early(rec, records)
        early["seconds"] = round(time.perf_counter() - t0, 2)
        report["backends"][backend] = {
            "how_early": early,
            "latency_by_length": latency_by_length(rec, records, per_group=per_group, repeats=repeats),
        }
    report["environment"]["load_average_after"] = environment(num_threads)["load_average"]
    return report


def summary(report: dict[str, Any]) -> str:
    """A few quotable lines of a report (the JSON has everything)."""
    lines = []
    for backend, r in report["backends"].items():
        e = r["how_early"]
        lines.append(f"{backend}: {e['drawings']} test drawings ({e['multi_stroke_drawings']} multi-stroke, "
                     f"{e['mean_strokes']} strokes on average), final top-1 accuracy {e['final_top1_accuracy']}")
        for scope in ("all", "multi_stroke"):
            b = e["final_label"][scope]
            lines.append(
                f"  final label, {scope:12s}: in top-1 after {b['top1_first']['mean']:.3f} (mean) / "
                f"{b['top1_first']['median']:.3f} (median) of the strokes, in top-3 after "
                f"{b['top3_first']['mean']:.3f} / {b['top3_first']['median']:.3f}; stays top-1 from "
                f"{b['top1_stays']['mean']:.3f} / {b['top1_stays']['median']:.3f}")
        lat = r["latency_by_length"]
        for g in ("short", "median", "long"):
            x = lat[g]
            lines.append(
                f"  latency {g:6s} (rows {x['rows_min_median_max'][1]:3d}): p50 {x['own_length_p50_ms']:.3f} ms "
                f"at own length, {x['padded_p50_ms']:.3f} ms padded to {lat['padded_to']} "
                f"({x['speedup_p50']}x)")
        lines.append(f"  own vs padded: max |dp| = {lat['max_abs_probability_difference_own_vs_padded']:.2e}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.how_early", description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", required=True, help="sketch bundle folder (manifest.json + models)")
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder of <category>.ndjson (default: ../shared/data/quickdraw)")
    ap.add_argument("--backend", action="append", choices=("tflite", "onnx"),
                    help="backend to measure (repeatable; default: both)")
    ap.add_argument("--per-category", type=int, default=None, help="cap test drawings per category (default: all)")
    ap.add_argument("--per-group", type=int, default=40, help="drawings per length group for latency")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per drawing and padding")
    ap.add_argument("--threads", type=int, default=1, help="inference threads per backend (default 1)")
    ap.add_argument("--json", type=Path, help="also write the report to this file")
    a = ap.parse_args(argv)
    try:
        report = run(a.bundle, a.data, a.backend or ("tflite", "onnx"), a.per_category, a.per_group,
                     a.repeats, a.threads)
    except InkcastError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(report, indent=2)
    print(text)
    print(summary(report), file=sys.stderr)
    if a.json:
        a.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
