"""The report's two figures, drawn from report.json alone (matplotlib, Agg backend).

* ``latency.png`` -- left: the batch-1 latency distribution of every configuration (box p25-p75,
  line at p50, whiskers p1-p99; log scale), bare model call and public ``predict`` side by side,
  Keras reference rows in grey; right: invoke p50 by input length.
* ``accuracy_vs_latency.png`` -- each variant as a point: ``predict`` p50 (x, log) against top-1
  (y), one marker per thread setting, horizontal bars = min-max of the per-round p50s; Keras as a
  star at its direct-call p50.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
KERAS = "#7f7f7f"
MARKERS = ["o", "s", "^", "D"]


def _plain_log_axis(axis, dense: bool = False) -> None:
    """Log axis with ticks at 1-2-5 steps (dense: 1-1.5-2-3-5-7) written as plain numbers."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0) if dense else (1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _threads(n: int) -> str:
    return f"{n} thread" + ("" if n == 1 else "s")


def _box(s: dict, label: str) -> dict:
    return {"med": s["p50_ms"], "q1": s["p25_ms"], "q3": s["p75_ms"], "whislo": s["p1_ms"], "whishi": s["p99_ms"],
            "mean": s["mean_ms"], "label": label, "fliers": []}


def _rows(report: dict) -> list[tuple[str, str, dict, str]]:
    """(label, kind, stats, color) per box, top to bottom."""
    out = []
    for k, (name, v) in enumerate(report["variants"].items()):
        col = COLORS[k % len(COLORS)]
        for t, tv in v["threads"].items():
            n = report["settings"]["threads"][t]
            out.append((f"{name}, {n} thr: invoke", "invoke", tv["invoke"], col))
            out.append((f"{name}, {n} thr: predict", "predict", tv["predict"], col))
    for t, kr in report["reference_rows"]["keras"].get("threads", {}).items():
        n = report["settings"]["threads"][t]
        out.append((f"Keras, {n} thr: model(x)", "keras", kr["keras_call"], KERAS))
        out.append((f"Keras, {n} thr: predict(x)", "keras", kr["keras_predict"], KERAS))
        out.append((f"Keras, {n} thr: tf.function", "keras", kr["keras_graph"], KERAS))
    return out


def plot_latency(report: dict, path: Path) -> Path:
    rows = _rows(report)
    threads = report["settings"]["threads"]
    h = max(5.0, 0.36 * len(rows) + 1.8)
    fig = plt.figure(figsize=(16, h))
    gs = fig.add_gridspec(len(threads), 2, width_ratios=[1.45, 1])
    ax = fig.add_subplot(gs[:, 0])
    stats = [_box(s, label) for label, _, s, _ in rows][::-1]
    horizontal = ({"orientation": "horizontal"} if "orientation" in inspect.signature(ax.bxp).parameters
                  else {"vert": False})  # matplotlib >= 3.10 / older
    bp = ax.bxp(stats, showfliers=False, patch_artist=True, widths=0.6,
                medianprops={"color": "black", "linewidth": 1.5}, **horizontal)
    for patch, (_, kind, _, col) in zip(bp["boxes"], rows[::-1]):
        patch.set_facecolor(col)
        patch.set_alpha(0.35 if kind == "predict" else 0.75)
        patch.set_hatch("//" if kind == "predict" else "")
    ax.set_xscale("log")
    _plain_log_axis(ax.xaxis)
    ax.set_xlabel("latency per call, ms (log scale) — box p25–p75, line p50, whiskers p1–p99")
    lo = min(s["whislo"] for s in stats)
    hi = max(s["whishi"] for s in stats)
    ax.set_xlim(lo / 1.5, hi * 4)
    for i, s in enumerate(stats, start=1):
        ax.text(s["whishi"] * 1.08, i, f"p50 {s['med']:.3g}  p99 {s['whishi']:.3g}", va="center", fontsize=8)
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.tick_params(axis="y", labelsize=9)
    ax.set_title(f"Batch-1 latency on real test {'drawings' if report['bundle']['task'] == 'sketch' else 'items'}\n"
                 "(solid: bare model call, hatched: public predict, grey: Keras)", fontsize=10)

    edges = report["settings"]["length_edges"]
    centers = [(lo + hi) / 2 for lo, hi in zip(edges[:-1], edges[1:])]
    first = next(iter(report["variants"].values()))
    counts = [b["n"] for b in next(iter(first["threads"].values()))["by_length"]]
    ticks = [f"{lo + 1}–{hi}\nn={n}" for (lo, hi), n in zip(zip(edges[:-1], edges[1:]), counts)]
    for row, (t, n_threads) in enumerate(threads.items()):
        ax2 = fig.add_subplot(gs[row, 1])
        for k, (name, v) in enumerate(report["variants"].items()):
            tv = v["threads"].get(t)
            if not tv:
                continue
            pts = [(c, b["p50_ms"]) for c, b in zip(centers, tv["by_length"]) if b["n"]]
            if pts:
                xs, ys = zip(*pts)
                ax2.plot(xs, ys, marker="o", ms=4, color=COLORS[k % len(COLORS)], label=name)
        ax2.set_yscale("log")
        _plain_log_axis(ax2.yaxis)
        ax2.set_xticks(centers, ticks, fontsize=8)
        ax2.set_ylabel("invoke p50, ms (log)")
        ax2.grid(which="both", alpha=0.3)
        ax2.set_title(f"Bare model call p50 by input length — {_threads(n_threads)}", fontsize=10)
        if row == 0:
            ax2.legend(fontsize=8, loc="upper left", ncol=2 if len(report["variants"]) > 4 else 1)
        if row == len(threads) - 1:
            ax2.set_xlabel("input length (rows after preprocessing); n = samples per configuration")
    m = report["machine"]
    fig.suptitle(f"{report['bundle']['path']} — {m['cpu_model']}, {m['cores_usable']} cores, "
                 f"{report['settings']['mode']} mode, {report['created']}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_accuracy_vs_latency(report: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(11, 6))
    metric = report["settings"].get("quality_metric", "top1")
    scale = 100.0 if metric.startswith("top") else 1.0
    xs_all, ys_all = [], []
    for k, (name, v) in enumerate(report["variants"].items()):
        col = COLORS[k % len(COLORS)]
        y = v["quality"][metric] * scale
        for j, (t, tv) in enumerate(v["threads"].items()):
            s = tv["predict"]
            x = s["p50_ms"]
            lo, hi = s.get("p50_spread_ms", [x, x])
            # the gate's re-measurement can move p50 outside the first rounds' spread: the bar
            # then reaches from p50 to the far end (matplotlib refuses negative error lengths)
            lo, hi = min(lo, x), max(hi, x)
            ax.errorbar([x], [y], xerr=[[x - lo], [hi - x]], fmt=MARKERS[j % len(MARKERS)], color=col, ms=9,
                        capsize=5, elinewidth=1.2, alpha=0.85,
                        label=f"{name}, {_threads(report['settings']['threads'][t])}")
            xs_all += [x, lo, hi]
            ys_all.append(y)
    kr = report["reference_rows"]["keras"]
    kq = kr.get("quality")
    if kq and kr.get("threads"):
        for j, (t, k) in enumerate(kr["threads"].items()):
            for kind, mk, what in (("keras_call", "*", "model(x)"), ("keras_graph", "P", "tf.function")):
                x = k[kind]["p50_ms"]
                ax.plot([x], [kq[metric] * scale], marker=mk, color=KERAS, ms=12 if mk == "*" else 9,
                        linestyle="none", fillstyle="full" if j == 0 else "none",
                        label=f"Keras {what}, {_threads(report['settings']['threads'][t])} (no preprocessing)")
                xs_all.append(x)
                ys_all.append(kq[metric] * scale)
    ax.set_xscale("log")
    _plain_log_axis(ax.xaxis, dense=bool(xs_all) and max(xs_all) / min(xs_all) < 30)
    if xs_all:
        ax.set_xlim(min(xs_all) / 1.25, max(xs_all) * 1.25)
        span = max(ys_all) - min(ys_all)
        pad = max(span * 0.3, 1.0 if scale == 100.0 else 0.01 * abs(max(ys_all)))
        ax.set_ylim(min(ys_all) - pad, max(ys_all) + pad)
    ax.set_xlabel("public predict() p50 latency, ms (log scale; bars = min–max over rounds)")
    ax.set_ylabel(f"{metric} on the test items" + (" (%)" if scale == 100 else " (lower is better)"))
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
              title="colour = variant, marker = threads", title_fontsize=8)
    inp = report["inputs"]
    ax.set_title(f"Accuracy vs latency per variant — accuracy on {inp.get('accuracy_items', inp['items'])} test items, "
                 f"{report['machine']['cores_usable']}-core {report['machine']['cpu_model']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
