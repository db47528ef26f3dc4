"""Does raw phone input get the same answer as Google's simplified drawing? (issue #6, raw input)

For test-split drawings it compares the recognizer's top-1 on the original simplified drawing
with its top-1 on the same drawing made raw by :func:`tests.rawlike.rawify`
(scaled up to a ~1080x2000 screen at a random place, a point every ~3 px, +-``jitter`` px of
uniform noise, timestamps) and recovered by ``inkcast.runtime.simplify`` (``raw=None``: detected).
Two references frame the figure:

* ``resimplified`` -- the original pushed through the pipeline as if raw (``raw=True``), no
  scaling or noise: what re-running RDP on Google's output alone changes;
* ``unsimplified`` -- the raw input given to the model as it is (``raw=False``): what the
  pipeline is for.

Run from the repository root: ``python -m experiments.raw_agreement --bundle DIR [--per-category 60] [--seeds 5]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import time

import numpy as np

from experiments.how_early import DEFAULT_DATA
from inkcast.data.quickdraw import split_records
from inkcast.runtime import SketchRecognizer
from inkcast.runtime.simplify import parse_strokes, prepare_drawing
from tests.rawlike import rawify  # the tests' raw-input imitation: the experiment measures what they check


def _top1(recognizer: SketchRecognizer, drawings: Sequence, raw: bool | None) -> list[str]:
    return [p[0][0] for p in recognizer.predict_batch(drawings, top_k=1, raw=raw)]


def _p50_ms(fn, items: Sequence, rounds: int = 3) -> float:
    """Median ms of ``fn(x)`` over ``rounds`` passes of the items (a loaded machine is noisy)."""
    times = []
    for _ in range(rounds):
        for x in items:
            t0 = time.perf_counter()
            fn(x)
            times.append(time.perf_counter() - t0)
    return round(float(np.median(times)) * 1e3, 3)


def raw_costs(recognizer: SketchRecognizer, originals: Sequence, raws: Sequence) -> dict[str, Any]:
    """p50 ms per drawing: the pipeline alone, ``predict`` on raw vs simplified input, and a stream
    update (10 more raw points) while drawing."""
    updates = []
    for r in raws[:100]:
        stream = recognizer.stream()
        for stroke in parse_strokes(r):
            for at in range(0, len(stroke), 10):  # ~80 ms of touch events per update
                t0 = time.perf_counter()
                stream.add_points(stroke[at : at + 10])
                updates.append(time.perf_counter() - t0)
            stream.end_stroke()
    return {
        "stream_update_p50_ms": round(float(np.median(updates)) * 1e3, 3),
        "stream_update_p90_ms": round(float(np.percentile(updates, 90)) * 1e3, 3),
        "raw_points_median": int(np.median([sum(len(s) for s in parse_strokes(r)) for r in raws])),
        "simplify_p50_ms": _p50_ms(lambda r: prepare_drawing(r, raw=None), raws),
        "predict_raw_p50_ms": _p50_ms(recognizer.predict, raws),
        "predict_simplified_p50_ms": _p50_ms(recognizer.predict, originals),
    }


def raw_agreement(recognizer: SketchRecognizer, records: Sequence[dict], seeds: Sequence[int] = (0, 1, 2, 3, 4),
                  jitter: float = 2.0, spacing: float = 3.0) -> dict[str, Any]:
    """Top-1 agreement between original and recovered raw drawings, per seed; see the module doc."""
    originals = [r["drawing"] for r in records]
    want = _top1(recognizer, originals, raw=None)
    truth = [r.get("word") for r in records]

    def agree(got: list[str]) -> float:
        return round(float(np.mean([a == b for a, b in zip(got, want)])), 4)

    per_seed, unsimplified, differing, costs = [], [], {}, {}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        raws = [rawify(d, rng, spacing=spacing, jitter=jitter, layout="points" if i % 2 else "strokes")
                for i, d in enumerate(originals)]
        got = _top1(recognizer, raws, raw=None)
        if not costs:
            costs = raw_costs(recognizer, originals, raws)
        per_seed.append(agree(got))
        unsimplified.append(agree(_top1(recognizer, raws, raw=False)))
        for i, (a, b) in enumerate(zip(got, want)):
            if a != b:
                differing[i] = differing.get(i, 0) + 1
    return {
        "drawings": len(originals),
        "final_top1_accuracy_on_originals": round(float(np.mean([a == t for a, t in zip(want, truth)])), 4),
        "jitter_px": jitter,
        "spacing_px": spacing,
        "seeds": list(seeds),
        "agreement_per_seed": per_seed,
        "agreement_mean": round(float(np.mean(per_seed)), 4),
        "agreement_min": min(per_seed),
        "resimplified_agreement": agree(_top1(recognizer, originals, raw=True)),
        "unsimplified_agreement_mean": round(float(np.mean(unsimplified)), 4),
        "differing_drawings": {str(i): n for i, n in sorted(differing.items())},
        "costs": costs,
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.raw_agreement", description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--data", default=str(DEFAULT_DATA), help="folder of <category>.ndjson")
    ap.add_argument("--backend", default="tflite", choices=("tflite", "onnx"))
    ap.add_argument("--per-category", type=int, default=60, help="test drawings per category (default 60)")
    ap.add_argument("--seeds", type=int, default=5, help="raw versions per drawing (seeds 0..N-1)")
    ap.add_argument("--jitter", type=float, default=2.0, help="uniform noise, +- px on the screen")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    rec = SketchRecognizer(a.bundle, backend=a.backend)
    report = {"bundle": a.bundle, "backend": a.backend,
              **raw_agreement(rec, split_records(a.data, "test", per_category=a.per_category), range(a.seeds), a.jitter)}
    text = json.dumps(report, indent=2)
    print(text)
    if a.json:
        a.json.write_text(text + "\n", encoding="utf-8")
    print(f"top-1 agreement raw->recovered vs original: mean {report['agreement_mean']:.4f} "
          f"(min {report['agreement_min']:.4f}) over {report['drawings']} drawings x {a.seeds} seeds, "
          f"+-{a.jitter} px; re-simplified only {report['resimplified_agreement']:.4f}; "
          f"raw without the pipeline {report['unsimplified_agreement_mean']:.4f}; p50 ms: simplify "
          f"{report['costs']['simplify_p50_ms']} ({report['costs']['raw_points_median']} raw points), predict raw "
          f"{report['costs']['predict_raw_p50_ms']} vs simplified {report['costs']['predict_simplified_p50_ms']}; "
          f"stream update (+10 points) {report['costs']['stream_update_p50_ms']}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
