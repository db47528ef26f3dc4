"""Writing a benchmark report: report.json, report.md, benchmark.json (github-action-benchmark).

``report.json`` is the full record (schema in ``benchmarks/README.md``); ``report.md`` is the same
as readable tables; ``benchmark.json`` is the ``customSmallerIsBetter`` list that
github-action-benchmark consumes (every figure there is smaller-is-better: throughput is given as
milliseconds per item).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

BENCHMARK_JSON = "benchmark.json"
ITEMS = {"sketch": ("drawing", "drawings"), "forecast": ("window", "windows")}


def _num(x: Any, fmt: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, fmt)


def _spread(s: dict | None, key: str = "p50_spread_ms", fmt: str = ".3f") -> str:
    if not s or key not in s:
        return "-"
    lo, hi = s[key]
    return f"{lo:{fmt}}–{hi:{fmt}}"


def _ms(s: dict | None, fmt: str = ".3f") -> str:
    """median (min–max) of a cold-start figure."""
    if not s:
        return "-"
    return f"{s['median']:{fmt}} ({s['min']:{fmt}}–{s['max']:{fmt}})"


def _threads_label(report: dict, t: str) -> str:
    n = report["settings"]["threads"].get(t)
    return f"{t} ({n})" if t != str(n) else t


def _config_rows(report: dict, cells) -> list[str]:
    """One table row per variant and thread setting: its name, the threads, then ``cells(variant, figures)``."""
    return [f"| {name} | {_threads_label(report, t)} | " + " | ".join(cells(v, tv)) + " |"
            for name, v in report["variants"].items() for t, tv in v["threads"].items()]


def _keras_rows(report: dict, kinds, cells) -> list[str]:
    """Rows of the Keras reference: for each thread setting and (kind, label), ``cells(its summary)``."""
    kr = report["reference_rows"]["keras"]
    return [f"| {label} | {_threads_label(report, t)} | " + " | ".join(cells(k[kind])) + " |"
            for t, k in kr.get("threads", {}).items() for kind, label in kinds]


def _latency_cells(a: dict) -> list[str]:
    """p50, p90, p99, mean ± std and spread of one latency summary (ms)."""
    return [f"{a['p50_ms']:.3f}", f"{a['p90_ms']:.3f}", f"{a['p99_ms']:.3f}", f"{a['mean_ms']:.3f} ± {a['std_ms']:.3f}",
            _spread(a)]


def write_json(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def github_benchmark_entries(report: dict) -> list[dict]:
    """``customSmallerIsBetter`` entries: ``{name, unit, value, range?, extra?}``."""
    task = report["bundle"]["task"]
    out: list[dict] = []

    def add(name: str, unit: str, value: float | None, rng: str | None = None, extra: str | None = None) -> None:
        if value is None:
            return
        e = {"name": f"{task}/{name}", "unit": unit, "value": round(float(value), 6)}
        if rng:
            e["range"] = rng
        if extra:
            e["extra"] = extra
        out.append(e)

    for vname, v in report["variants"].items():
        for t, tv in v["threads"].items():
            base = f"{vname}/threads={t}"
            for kind in ("invoke", "predict"):
                s = tv[kind]
                add(f"{base}/{kind} p50", "ms", s["p50_ms"], _spread(s, fmt=".4f").replace("–", "-"),
                    f"p90 {s['p90_ms']:.4f} ms, p99 {s['p99_ms']:.4f} ms, n {s['n']}")
            add(f"{base}/batch32 per item", "ms", tv["batch"]["ms_per_item"], None, tv["batch_mode"])
            for key, r in tv["ratios"].items():
                if r.get("value") is not None:
                    add(f"{base}/{key}", "ratio", r["value"], f"{r['min']:.3f}-{r['max']:.3f}",
                        f"reference {report['settings']['reference_variant']}" if key != "predict_over_invoke" else None)
            cs = tv["cold_start"]
            add(f"{base}/cold start", "ms", cs["process_ms"]["median"],
                f"{cs['process_ms']['min']:.0f}-{cs['process_ms']['max']:.0f}", "fresh process: import + load + first prediction")
            add(f"{base}/peak RSS", "MB", cs["peak_rss_mb"]["median"])
        add(f"{vname}/size", "KB", v["size_bytes"] / 1e3)
        q = v["quality"]
        if "drop_points" in q:
            add(f"{vname}/{q['metric']} drop", "points" if q["metric"].startswith("top") else "series units",
                q["drop_points"], None,
                f"{q['metric']} {q.get('value'):.4f} on {q['items']} test items vs {report['settings']['reference_variant']}")
    return out


def markdown(report: dict, gate: dict | None = None, figures: bool = True) -> str:
    s, m, inp = report["settings"], report["machine"], report["inputs"]
    item, items = ITEMS.get(report["bundle"]["task"], ("item", "items"))
    ref = s["reference_variant"]
    ver = m["versions"]
    vs = ", ".join(f"{k} {v}" for k, v in ver.items() if v)
    lines = [
        f"# inkcast bench — `{report['bundle']['path']}` ({report['bundle']['task']})",
        "",
        f"Measured {report['created']} in {report['duration_s']} s, mode **{s['mode']}**, on **{m['cpu_model']}** "
        f"({m['cores_usable']} usable cores of {m['cores_total']}, {m['memory_mb']} MB); {vs}. "
        f"Load average (1, 5, 15 min) at start {m['load_average_start']}, at end {m.get('load_average_end')}.",
        "",
        f"Inputs: accuracy on {inp.get('accuracy_items', inp['items'])} real test items "
        f"({inp.get('accuracy_source', inp['source'])}); latency and throughput on {inp['items']} of them "
        f"({inp['source']}); lengths min {inp['length']['min']}, "
        f"median {inp['length']['p50']:.0f}, p95 {inp['length']['p95']:.0f}, max {inp['length']['max']}."
        + "".join(f" {n}." for n in inp["notes"]),
        "",
        f"Method: every configuration (variant × thread setting) is measured in {s['plan']['rounds']} interleaved "
        f"rounds of {s['plan']['per_round']} batch-1 calls, interleaved in chunks of {s['plan'].get('chunk', 8)} "
        f"(every configuration runs the same chunk of inputs before the next chunk, order rotated; one untimed call "
        f"per chunk, GC paused). *invoke* = the bare model call "
        f"(`open_model(...).invoke_one`, TFLite: resize + `reset_all_variables` + invoke); *predict* = the public "
        f"`predict({item})` (checks, preprocessing, model, post-processing). Ratios are per-round ratios against "
        f"**{ref}**, median over rounds (min–max in brackets); *spread* is the min–max of the per-round medians. "
        f"Threads: " + ", ".join(f"{k} = {v}" for k, v in s["threads"].items()) + ".",
        "",
    ]
    la = m.get("load_average_start") or [0]
    if la and la[0] > m["cores_usable"]:
        lines += [f"> **The machine was busy**: load average {la[0]} on {m['cores_usable']} cores at the start. "
                  "A call longer than a scheduler time slice (batches of 32, Keras) waits for a core part of the "
                  "time, so its wall time is inflated and noisy; the short batch-1 p50s much less so. The CPU-time "
                  "columns and the ratios (measured side by side) are the figures to compare.", ""]
    if gate:
        lines += [f"## Gate: {'PASSED' if gate['passed'] else 'FAILED'}", "",
                  f"Baseline `{gate['baseline']}`, {gate.get('clock', 'cpu')}-time ratios; max regression "
                  f"{gate['max_regression']:.0%} for ratios, "
                  f"+{gate['max_drop_increase']} points for the accuracy drop.", ""]
        for f in gate["failures"]:
            lines.append(f"- **{f}**")
        if gate.get("confirmation"):
            lines.append(f"- {gate['confirmation']}")
        if not gate["failures"]:
            lines.append(f"- all {gate['checked']} figures within tolerance")
        lines.append("")

    # ---- size and accuracy
    kq = report["reference_rows"]["keras"].get("quality")
    if s.get("quality_metric", "top1") == "top1":
        lines += ["## Size and accuracy", "",
                  f"Accuracy on {inp.get('accuracy_items', inp['items'])} test items; *drop* = reference top-1 minus this top-1, in percentage "
                  f"points (reference {ref}); *agreement* = same top-1 as the reference.", "",
                  "| variant | backend | dtype | size (KB) | size / ref | top-1 | top-3 | drop (pts) | agreement | "
                  "drop vs Keras (pts) | drop at export (pts) |",
                  "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, v in report["variants"].items():
            q = v["quality"]
            ex = (v.get("export_accuracy") or {}).get("drop_points")
            lines.append(f"| {name} | {v['backend']} | {v['dtype']} | {v['size_bytes'] / 1e3:.1f} | {v['size_ratio']:.3f} | "
                         f"{_num(q.get('top1'), '.4f')} | {_num(q.get('top3'), '.4f')} | {_num(q.get('drop_points'), '+.2f')} | "
                         f"{_num(q.get('agreement'), '.4f')} | {_num(q.get('drop_vs_keras_points'), '+.2f')} | "
                         f"{_num(ex, '+.2f')} |")
        if kq:
            lines.append(f"| Keras (reference) | tensorflow | float32 | - | - | {kq['top1']:.4f} | {kq['top3']:.4f} | "
                         f"{0.0 - kq['drop_points']:+.2f} (Keras − {ref}) | {kq['agreement']:.4f} | 0 | - |")
        unknown = {n: v["quality"]["unknown"] for n, v in report["variants"].items() if "unknown" in v["quality"]}
        if unknown:
            first = next(iter(unknown.values()))
            lines += ["", f"\"Unknown\": {first['unknown_drawings']} drawings of {first['unknown_categories']} categories "
                      "that are not the bundle's labels (and not the outliers its training used), at the bundle's "
                      f"threshold {first['threshold']:.4f}; FPR95 = unknown drawings accepted at the score that keeps 95 % "
                      "of known ones.", "",
                      "| variant | AUROC | FPR95 | known kept | unknown accepted | accepted most |", "|---|---:|---:|---:|---:|---|"]
            for name, u in unknown.items():
                most = ", ".join(f"{m['category']} {m['accepted']}/{m['drawings']}" for m in u["unknown_accepted_most"][:3])
                lines.append(f"| {name} | {u['auroc']:.4f} | {100 * u['fpr95']:.1f} % | {100 * u['known_kept']:.1f} % | "
                             f"{100 * u['unknown_accepted']:.1f} % | {most} |")
    else:
        metric = s["quality_metric"].upper()
        lines += ["## Size and accuracy", "",
                  f"{metric} on {inp.get('accuracy_items', inp['items'])} test items (lower is better); *increase* = this {metric} minus the "
                  f"reference's ({ref}), in the series' units.", "",
                  f"| variant | backend | dtype | size (KB) | size / ref | {metric} | increase | max abs difference | "
                  "increase vs Keras |",
                  "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for name, v in report["variants"].items():
            q = v["quality"]
            lines.append(f"| {name} | {v['backend']} | {v['dtype']} | {v['size_bytes'] / 1e3:.1f} | {v['size_ratio']:.3f} | "
                         f"{_num(q.get('value'), ',.2f')} | {_num(q.get('drop_points'), '+.3f')} | "
                         f"{_num(q.get('max_abs_difference'), '.3g')} | {_num(q.get('drop_vs_keras_points'), '+.3f')} |")
        if kq:
            lines.append(f"| Keras (reference) | tensorflow | float32 | - | - | {kq['value']:,.2f} | "
                         f"{0.0 - kq['drop_points']:+.3f} (Keras − {ref}) | - | 0 |")
    lines.append("")

    # ---- latency
    lines += ["## Latency at batch 1 (ms)", "",
              "| variant | threads | invoke p50 | p90 | p99 | mean ± std | spread | predict p50 | p90 | p99 | "
              "mean ± std | spread |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def rr(r: dict | None) -> str:
        if not r or r.get("value") is None:
            return "1 (ref)" if r is None else "-"
        return f"{r['value']:.3f} ({r['min']:.2f}–{r['max']:.2f})"

    lines += _config_rows(report, lambda v, tv: _latency_cells(tv["invoke"]) + _latency_cells(tv["predict"]))
    kr = report["reference_rows"]["keras"]
    lines += _keras_rows(report, (("keras_call", "Keras `model(x, training=False)`"),
                                  ("keras_predict", "Keras `model.predict(x)`"), ("keras_graph", "Keras in `tf.function`")),
                         lambda a: _latency_cells(a) + ["-"] * 5)
    if "skipped" in kr:
        lines.append(f"\nKeras reference rows: skipped ({kr['skipped']}).")
    lines.append("")

    # ---- ratios (what the gate compares)
    lines += ["### Ratios measured side by side (median over rounds, min–max)", "",
              f"Against **{ref}** at the same thread setting; *wall* = elapsed time, *CPU* = the calling thread's CPU "
              "time (does not count time spent waiting for a core; the gate uses it by default).", "",
              "| variant | threads | invoke/ref wall | invoke/ref CPU | predict/ref wall | predict/ref CPU | "
              "batch/ref wall | batch/ref CPU | predict/invoke wall | predict/invoke CPU |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += _config_rows(report, lambda v, tv: [rr(tv["ratios"].get(k)) for k in (
        "invoke_p50_ratio", "invoke_cpu_p50_ratio", "predict_p50_ratio", "predict_cpu_p50_ratio", "batch_p50_ratio",
        "batch_cpu_p50_ratio")] + [rr(tv["ratios"][k]) for k in ("predict_over_invoke", "predict_over_invoke_cpu")])
    lines.append("")

    # ---- speed-ups vs Keras
    if kr.get("threads"):
        lines += ["### Speed-up over Keras (same run, p50 over p50)", "",
                  "Keras rows take model rows (no preprocessing), so they are compared with *invoke*. "
                  "`tf.function` = the model traced once with a free batch and time axis (TensorFlow's best case).", "",
                  "| variant | threads | Keras call / invoke | Keras predict / invoke | tf.function / invoke | "
                  "Keras call b32 / b32 | tf.function b32 / b32 |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for name, v in report["variants"].items():
            for t, tv in v["threads"].items():
                sp = tv.get("speedup_vs_keras")
                if sp:
                    lines.append(f"| {name} | {_threads_label(report, t)} | ×{sp['keras_call_over_invoke_p50']:.1f} | "
                                 f"×{sp['keras_predict_over_invoke_p50']:.1f} | ×{sp['keras_graph_over_invoke_p50']:.1f} | "
                                 f"×{sp['keras_call_batch_over_batch_p50']:.1f} | ×{sp['keras_graph_batch_over_batch_p50']:.1f} |")
        lines.append("")

    # ---- throughput
    bs = s["plan"]["batch_size"]
    lines += [f"## Throughput at batch {bs}", "",
              "TFLite graphs have batch 1: their batch is "
              f"{bs} sequential invokes, each {item} at its own length. ONNX runs one call on the {bs} {items} "
              f"left-padded to the longest. *predict_batch* is the public API on the raw {items}. *CPU* = the calling thread's CPU time (for TFLite and for ONNX at 1 thread, the "
              "work itself; a multi-threaded ONNX call also uses other threads).", "",
              f"| variant | threads | how | batch p50 (ms) | spread | {items}/s | ms/{item} | CPU p50 (ms) | "
              f"{items}/s at CPU p50 | batch / ref | predict_batch p50 (ms) | {items}/s |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    def batch_cells(v: dict, tv: dict) -> list[str]:
        a, b = tv["batch"], tv["predict_batch"]
        return ["sequential invokes" if v["backend"] == "tflite" else "one padded call", f"{a['p50_ms']:.2f}",
                _spread(a, fmt=".2f"), f"{a['items_per_s']:.0f}", f"{a['ms_per_item']:.3f}", f"{a['cpu_p50_ms']:.2f}",
                f"{bs / a['cpu_p50_ms'] * 1e3:.0f}", rr(tv["ratios"].get("batch_p50_ratio")), f"{b['p50_ms']:.2f}",
                f"{b['items_per_s']:.0f}"]

    lines += _config_rows(report, batch_cells)
    lines += _keras_rows(report, (("keras_call_batch", "Keras call"), ("keras_predict_batch", "Keras predict"),
                                  ("keras_graph_batch", "Keras tf.function")),
                         lambda a: ["one padded call", f"{a['p50_ms']:.2f}", _spread(a, fmt=".2f"),
                                    f"{bs / a['p50_ms'] * 1e3:.0f}", f"{a['p50_ms'] / bs:.3f}"] + ["-"] * 5)
    lines.append("")

    # ---- cold start
    lines += ["## Cold start and memory (fresh process)", "",
              f"Median of {s['coldstart_repeats']} fresh processes (min–max). *process* = spawn to exit (includes Python's "
              "own start); *import* = the runtime and its backend package; *load* = the public constructor (manifest, "
              "sha256, model); *first* = the first prediction; peak RSS = the process's `VmHWM` (/proc/self/status).", "",
              "| variant | threads | process (ms) | import (ms) | load (ms) | first prediction (ms) | RSS after load (MB) | "
              "peak RSS (MB) | TensorFlow imported |",
              "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    def cold_cells(v: dict, tv: dict) -> list[str]:
        c = tv["cold_start"]
        return [_ms(c["process_ms"], ".0f"), _ms(c["import_ms"], ".0f"), _ms(c["load_ms"], ".1f"),
                _ms(c["first_prediction_ms"], ".1f"), _num(c.get("rss_after_load_mb", {}).get("median"), ".1f"),
                _ms(c["peak_rss_mb"], ".1f"), "yes" if c["tensorflow_imported"] else "no"]

    lines += _config_rows(report, cold_cells)
    for t, k in kr.get("threads", {}).items():
        c = k["cold_start"]
        peak = c.get("peak_rss_mb")
        lines.append(f"| Keras (TensorFlow) | {_threads_label(report, t)} | {c['in_process_ms']:.0f} ¹ | {c['import_ms']:.0f} | "
                     f"{c['load_ms']:.1f} | {c['first_prediction_ms']:.1f} | - | {_num(peak, '.1f')} ² | yes |")
    if kr.get("threads"):
        lines += ["", "¹ Keras: import TensorFlow + rebuild the model from the run folder + first call, timed inside its "
                  "process (one process per thread setting, not repeated). ² peak of that whole process, which goes on "
                  "to run every Keras measurement."]
    lines.append("")

    # ---- by length
    edges = s["length_edges"]
    heads = [f"{lo + 1}–{hi}" for lo, hi in zip(edges[:-1], edges[1:])]
    lines += ["## Latency by input length (invoke p50 in ms; n samples)", "",
              "| variant | threads | " + " | ".join(heads) + " |", "|---|---|" + "---:|" * len(heads)]
    lines += _config_rows(report, lambda v, tv: [f"{b['p50_ms']:.3f} ({b['n']})" if b["n"] else "-"
                                                 for b in tv["by_length"]])
    if figures:
        lines += ["", "![latency](latency.png)", "", "![accuracy vs latency](accuracy_vs_latency.png)", ""]
    else:
        lines += ["", "(no figures: matplotlib is not installed)", ""]
    if report.get("skipped_variants") or report.get("unavailable_in_bundle"):
        lines += ["## Not measured", ""]
        lines += [f"- {k}: backend not installed here ({v})" for k, v in report.get("skipped_variants", {}).items()]
        lines += [f"- {k}: not in the bundle, the export could not make it ({v})"
                  for k, v in report.get("unavailable_in_bundle", {}).items()]
        lines.append("")
    return "\n".join(lines)


def write_all(report: dict, out_dir: Path, gate: dict | None = None) -> list[Path]:
    """report.json, report.md, benchmark.json, latency.png, accuracy_vs_latency.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if gate is not None:
        report["gate"] = gate
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / BENCHMARK_JSON]
    try:
        from .plots import plot_accuracy_vs_latency, plot_latency
    except ImportError as e:  # a runtime-only install may lack matplotlib: the tables are still written
        print(f"inkcast bench: no plots ({e}); pip install matplotlib", file=sys.stderr)
        plot_latency = plot_accuracy_vs_latency = None
    write_json(report, paths[0])
    paths[1].write_text(markdown(report, gate, figures=plot_latency is not None), encoding="utf-8")
    paths[2].write_text(json.dumps(github_benchmark_entries(report), indent=2) + "\n", encoding="utf-8")
    if plot_latency is None:
        return paths
    paths.append(plot_latency(report, out_dir / "latency.png"))
    paths.append(plot_accuracy_vs_latency(report, out_dir / "accuracy_vs_latency.png"))
    return paths

