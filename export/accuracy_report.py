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
            if "unknown" in a:
                row["unknown"] = a["unknown"]
        else:  # forecast bundles report errors instead of accuracy
            row.update({k: a[k] for k in a})
        rows.append(row)
    return rows


def unknown_lines(manifest: dict[str, Any]) -> list[str]:
    """accuracy.md's "unknown" section: the threshold, then each variant on the test outlier categories."""
    u = manifest.get("unknown")
    if not u:
        return ["", "No 'unknown' threshold: this bundle answers every drawing with one of its labels."]
    out = ["", "## Unknown drawings", "",
           f"Threshold {u['threshold']:.4f} on the top-1 probability ({u['method']}; {u['chosen_by']}): "
           "below it the answer is 'unknown'."]
    t = u.get("test")
    if not t:
        return out + ["No held-out outlier drawings were measured (train with --outliers DIR, or run "
                      "`inkcast evaluate BUNDLE --unknown DIR`)."]
    out += [f"Measured on {t['known_drawings']} known test drawings and {t['unknown_drawings']} drawings of "
            f"{t['unknown_categories']} categories used neither in training nor to choose the threshold. "
            "FPR95: unknown drawings accepted at the score that keeps 95 % of known ones.", "",
            "| variant | AUROC | FPR95 | known kept | known top-1 (unknown = wrong) | unknown accepted |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            f"| Keras (reference) | {t['auroc']:.4f} | {100 * t['fpr95']:.1f} % | {100 * t['known_kept']:.1f} % | "
            f"{100 * t['known_top1_at_threshold']:.2f} % | {100 * t['unknown_accepted']:.1f} % |"]
    for name, v in manifest["variants"].items():
        k = v["accuracy"].get("unknown")
        if k:
            out.append(f"| {name} | {k['auroc']:.4f} | {100 * k['fpr95']:.1f} % | {100 * k['known_kept']:.1f} % | "
                       f"{100 * k['known_top1_at_threshold']:.2f} % | {100 * k['unknown_accepted']:.1f} % |")
    most = ", ".join(f"{m['category']} ({m['accepted']}/{m['drawings']})" for m in t["unknown_accepted_most"])
    return out + ["", f"Unknown categories accepted most often (Keras): {most or 'none'}."]


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
        lines += unknown_lines(manifest)
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
