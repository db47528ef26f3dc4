"""accuracy.json and accuracy.md: one row per variant of a bundle (size, top-1, drop, agreement)."""

from __future__ import annotations

import json
from typing import Any


def accuracy_rows(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    variants = manifest["variants"]
    rows = []
    for name, v in variants.items():
        base = variants.get(f"{v['backend']}-float32") or variants.get("tflite-float32") or v
        a = v["accuracy"]
        row = {"variant": name, "backend": v["backend"], "dtype": v["dtype"], "file": v["file"],
               "size_bytes": v["size_bytes"], "size_ratio_to_float32": round(v["size_bytes"] / base["size_bytes"], 3),
               "passed": v["passed"], "allowed_drop": bool(v.get("allowed_drop", False))}
        if "top1" in a:
            row.update({"top1": a["top1"], "top3": a["top3"], "drop_points": a["drop_points"],
                        "agreement": a["agreement"]})
        else:  # forecast bundles report errors instead of accuracy
            row.update({k: a[k] for k in a})
        rows.append(row)
    return rows


def accuracy_report(manifest: dict[str, Any]) -> tuple[str, str]:
    """(accuracy.json text, accuracy.md text) for a manifest."""
    rows = accuracy_rows(manifest)
    ref = manifest["reference"]
    doc = {"task": manifest["task"], "reference": ref, "variants": rows}
    lines = [f"# Accuracy of each variant ({manifest['task']} bundle)", ""]
    if manifest["task"] == "sketch":
        lines += [f"Test split: {ref['drawings']} drawings. Reference: Keras float32, top-1 "
                  f"{100 * ref['top1']:.2f} %, top-3 {100 * ref['top3']:.2f} %. Drop is in points of top-1 "
                  f"against that reference; agreement is top-1 agreement with it.", "",
                  "| variant | size | vs float32 | top-1 | top-3 | drop (points) | agreement | gate |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for r in rows:
            gate = "pass" if r["passed"] else ("over limit, allowed" if r["allowed_drop"] else "fail")
            lines.append(f"| {r['variant']} | {r['size_bytes'] / 1024:.0f} KiB | {r['size_ratio_to_float32']:.2f} | "
                         f"{100 * r['top1']:.2f} % | {100 * r['top3']:.2f} % | {r['drop_points']:+.2f} | "
                         f"{100 * r['agreement']:.2f} % | {gate} |")
    else:
        keys = [k for k in rows[0] if k not in ("variant", "backend", "dtype", "file", "size_bytes",
                                                 "size_ratio_to_float32", "passed", "allowed_drop")]
        lines += ["| variant | size | vs float32 | " + " | ".join(keys) + " | gate |",
                  "| --- | ---: | ---: | " + " | ".join("---:" for _ in keys) + " | --- |"]
        for r in rows:
            gate = "pass" if r["passed"] else ("over limit, allowed" if r["allowed_drop"] else "fail")
            vals = " | ".join(f"{r[k]:.4g}" if isinstance(r[k], float) else str(r[k]) for k in keys)
            lines.append(f"| {r['variant']} | {r['size_bytes'] / 1024:.0f} KiB | {r['size_ratio_to_float32']:.2f} | {vals} | {gate} |")
    return json.dumps(doc, indent=2) + "\n", "\n".join(lines) + "\n"
