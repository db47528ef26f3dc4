#!/usr/bin/env python3
"""Recognize real drawings with a bundle and write every probability to JSON; compare two dumps.

Used by ``scripts/check-aarch64.sh`` to prove that the runtime gives the same answers on 64-bit Arm
(emulated) as on x86-64, but usable on its own, e.g. on a real Raspberry Pi:

    # on the development machine: pick drawings (the same file goes to both sides)
    python scripts/recognize_dump.py sample --data ../shared/data/quickdraw --per-category 40 --out drawings.jsonl
    # on each machine
    python recognize_dump.py dump --bundle BUNDLE --drawings drawings.jsonl --out pi.json
    # anywhere
    python recognize_dump.py compare x86.json pi.json --atol 1e-4

``dump`` and ``compare`` need only the standard library and ``inkcast.runtime`` (NumPy plus the
back-end packages): no TensorFlow. Exit status: 0 when equal within tolerance, 1 on any
difference, 2 on a usage or input error.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path



def _fail(msg: str) -> "NoReturn":  # noqa: F821
    print(f"recognize_dump: error: {msg}", file=sys.stderr)
    raise SystemExit(2)


# ---------------------------------------------------------------- sample
def cmd_sample(a: argparse.Namespace) -> int:
    """Take the first N drawings of each category file (test split when the reader is importable)."""
    data = Path(a.data)
    files = sorted(data.glob("*.ndjson"))
    if not files:
        _fail(f"{data}: no *.ndjson files (expected Quick, Draw! simplified ndjson, one JSON per line)")
    split_of = None
    if a.split != "any":
        try:
            from inkcast.data.quickdraw import split_of  # NumPy only, no TensorFlow
        except ImportError:
            _fail("--split needs inkcast.data.quickdraw (install the repo), or pass --split any")
    out = []
    for f in files:
        n = 0
        with open(f, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    drawing = rec["drawing"]
                except (json.JSONDecodeError, KeyError, TypeError) as e:
                    _fail(f"{f}:{lineno}: not a Quick, Draw! record with a 'drawing' field ({e})")
                if split_of is not None and split_of(rec["key_id"]) != a.split:
                    continue
                out.append({"source": f"{f.name}:{lineno}", "word": rec.get("word"),
                            "key_id": rec.get("key_id"), "drawing": drawing})
                n += 1
                if n >= a.per_category:
                    break
    with open(a.out, "w", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")
    print(f"sample: {len(out)} drawings from {len(files)} categories ({a.split} split) -> {a.out}")
    return 0


# ---------------------------------------------------------------- dump
def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out = {}
    for dist in ("inkcast", "numpy", "ai-edge-litert", "onnxruntime"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _output_step(rec) -> float | None:
    """The dequantization step of an integer model output (None for a float output)."""
    q = rec.model.output_quantization
    return None if q is None else float(q[0])


def cmd_dump(a: argparse.Namespace) -> int:
    t_import = time.perf_counter()
    import numpy as np

    from inkcast.runtime import InkcastError, SketchRecognizer
    from inkcast.runtime.bundle import load_bundle

    t_import = time.perf_counter() - t_import
    bundle = Path(a.bundle)
    try:
        b = load_bundle(bundle, task="sketch")
    except InkcastError as e:
        _fail(str(e))
    if a.variants == "all":
        variants = sorted(b.variants)
    elif a.variants == "float32":
        variants = [b.default_variant(x) for x in ("tflite", "onnx")]
    else:
        variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    records = []
    with open(a.drawings, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    _fail(f"{a.drawings}:{lineno}: not JSON ({e})")
    if a.limit:
        records = records[: a.limit]
    if not records:
        _fail(f"{a.drawings}: no drawings")

    result = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "versions": _versions(),
        "bundle": str(bundle),
        "manifest_sha256": __import__("hashlib").sha256((bundle / "manifest.json").read_bytes()).hexdigest(),
        "import_s": t_import,
        "variants": {},
    }
    for name in variants:
        t0 = time.perf_counter()
        try:
            rec = SketchRecognizer(bundle, variant=name, num_threads=a.threads)
        except InkcastError as e:
            _fail(f"variant {name}: {e}")
        t_load = time.perf_counter() - t0
        rows, lat = [], []
        for r in records:
            t = time.perf_counter()
            try:
                p = rec.probabilities(r["drawing"])
            except InkcastError as e:  # a drawing the runtime refuses must be refused on both sides
                rows.append({"source": r.get("source"), "error": f"{type(e).__name__}: {e}"})
                continue
            lat.append(time.perf_counter() - t)
            order = np.argsort(-p, kind="stable")[:3]
            rows.append({"source": r.get("source"), "word": r.get("word"),
                         "top": [[rec.labels[i], float(p[i])] for i in order],
                         "p": [float(v) for v in p]})
        ok = [x for x in rows if "p" in x]
        acc = (sum(x["top"][0][0] == x["word"] for x in ok) / len(ok)) if ok and ok[0]["word"] else None
        result["variants"][name] = {
            "backend": rec.backend, "labels": rec.labels, "output_step": _output_step(rec),
            "load_s": t_load, "first_predict_s": lat[0] if lat else None,
            "median_predict_s": float(np.median(lat)) if lat else None,
            "p90_predict_s": float(np.percentile(lat, 90)) if lat else None,
            "top1_accuracy": acc, "drawings": rows,
        }
        print(f"dump: {platform.machine()} {name}: {len(ok)}/{len(rows)} drawings, "
              f"load {t_load * 1e3:.0f} ms, median predict {np.median(lat) * 1e3:.2f} ms"
              + (f", top-1 accuracy {acc:.3f}" if acc is not None else ""))
    from inkcast import HEAVY_MODULES

    heavy = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY_MODULES)
    result["tensorflow_modules_loaded"] = heavy
    Path(a.out).write_text(json.dumps(result), encoding="utf-8")
    if heavy:
        print(f"dump: error: TensorFlow modules were imported while recognizing: {heavy[:5]}", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- compare
def compare(a_res: dict, b_res: dict, atol: float) -> tuple[list[str], list[str]]:
    """(report lines, difference lines) for two dumps; no differences means equal within tolerance."""
    lines, diffs = [], []
    la, lb = a_res.get("machine", "A"), b_res.get("machine", "B")
    if la == lb:
        la, lb = f"{la}(A)", f"{lb}(B)"
    if a_res["manifest_sha256"] != b_res["manifest_sha256"]:
        diffs.append("the two dumps come from different bundles (manifest sha256 differs)")
    for side, res in ((la, a_res), (lb, b_res)):
        if res.get("tensorflow_modules_loaded"):
            diffs.append(f"{side}: TensorFlow modules imported: {res['tensorflow_modules_loaded'][:5]}")
    names = sorted(set(a_res["variants"]) | set(b_res["variants"]))
    for name in names:
        va, vb = a_res["variants"].get(name), b_res["variants"].get(name)
        if va is None or vb is None:
            diffs.append(f"{name}: present only on {la if vb is None else lb}")
            continue
        if va["labels"] != vb["labels"]:
            diffs.append(f"{name}: label lists differ")
            continue
        step = va.get("output_step") or vb.get("output_step")
        tol = atol if not step else max(atol, step * 1.001)
        da, db = va["drawings"], vb["drawings"]
        if len(da) != len(db):
            diffs.append(f"{name}: {len(da)} drawings on {la}, {len(db)} on {lb}")
            continue
        n_top, n_err, max_abs, worst = 0, 0, 0.0, None
        for ra, rb in zip(da, db):
            if ra.get("source") != rb.get("source"):
                diffs.append(f"{name}: drawing order differs ({ra.get('source')} vs {rb.get('source')})")
                break
            if "error" in ra or "error" in rb:
                if ra.get("error") != rb.get("error"):
                    n_err += 1
                    diffs.append(f"{name} {ra['source']}: {la} {ra.get('error', 'ok')!r} vs {lb} {rb.get('error', 'ok')!r}")
                continue
            if ra["top"][0][0] != rb["top"][0][0]:
                n_top += 1
                diffs.append(f"{name} {ra['source']}: top-1 {ra['top'][0]} on {la} but {rb['top'][0]} on {lb}")
            d = max(abs(x - y) for x, y in zip(ra["p"], rb["p"]))
            if d > max_abs:
                max_abs, worst = d, ra["source"]
            if d > tol:
                diffs.append(f"{name} {ra['source']}: probabilities differ by {d:.3g} > {tol:.3g}")
        n = sum("p" in r for r in da)
        acc, acc_b = va.get("top1_accuracy"), vb.get("top1_accuracy")
        lines.append(
            f"  {name:<16} {n:>4} drawings  top-1 mismatches {n_top}  max |dp| {max_abs:.2e}"
            f" (tolerance {tol:.0e}{', 1 int step' if step else ''}{', worst ' + worst if worst and max_abs > 0 else ''})"
            + (f"  top-1 acc {acc:.3f}/{acc_b:.3f}" if acc is not None and acc_b is not None else "")
            + ("  FAIL" if n_top or max_abs > tol or n_err else "  ok"))
        for side, v in ((la, va), (lb, vb)):
            if v.get("median_predict_s") is not None:
                lines.append(f"      {side:<10} load {v['load_s'] * 1e3:8.1f} ms   first predict {v['first_predict_s'] * 1e3:8.2f} ms"
                             f"   median predict {v['median_predict_s'] * 1e3:8.2f} ms   p90 {v['p90_predict_s'] * 1e3:8.2f} ms")
    return lines, diffs


def cmd_compare(a: argparse.Namespace) -> int:
    try:
        ra = json.loads(Path(a.a).read_text(encoding="utf-8"))
        rb = json.loads(Path(a.b).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        _fail(f"cannot read a dump: {e}")
    print(f"compare: A = {a.a} ({ra['machine']}, Python {ra['python']}, {_fmt_versions(ra['versions'])})")
    print(f"         B = {a.b} ({rb['machine']}, Python {rb['python']}, {_fmt_versions(rb['versions'])})")
    lines, diffs = compare(ra, rb, a.atol)
    print("\n".join(lines))
    if diffs:
        print(f"compare: {len(diffs)} difference(s):")
        for d in diffs[:40]:
            print(f"  - {d}")
        if len(diffs) > 40:
            print(f"  ... and {len(diffs) - 40} more")
        return 1
    print("compare: identical top-1 on every drawing, probabilities within tolerance")
    return 0


def _fmt_versions(v: dict) -> str:
    return ", ".join(f"{k} {x}" for k, x in v.items() if x)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample", help="pick real drawings from Quick, Draw! ndjson files")
    s.add_argument("--data", required=True, help="folder of <category>.ndjson files")
    s.add_argument("--per-category", type=int, default=40)
    s.add_argument("--split", default="test", choices=["test", "validation", "train", "any"],
                   help="which split of the key_id hash split to take drawings from (default test)")
    s.add_argument("--out", required=True)
    d = sub.add_parser("dump", help="recognize drawings with a bundle, write JSON")
    d.add_argument("--bundle", required=True)
    d.add_argument("--drawings", required=True, help="JSON lines with a 'drawing' field (from 'sample')")
    d.add_argument("--variants", default="float32",
                   help="'float32' (each backend's float32 variant, default), 'all', or names separated by commas")
    d.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1: deterministic timing)")
    d.add_argument("--limit", type=int, default=0)
    d.add_argument("--out", required=True)
    c = sub.add_parser("compare", help="compare two dumps; exit 1 on any difference")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--atol", type=float, default=1e-4,
                   help="absolute tolerance on each probability of float variants (default 1e-4); "
                        "integer-output variants allow one quantization step")
    a = p.parse_args(argv)
    return {"sample": cmd_sample, "dump": cmd_dump, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
