"""A sketch run's test report that stays readable at 345 categories: ``report.md`` and ``confusion.png``.

A 345 x 345 confusion matrix is unreadable as numbers and as a plain heatmap (its off-diagonal
mass is scattered). The report gives top-1/3/5, the worst and best categories, and the most
confused pairs (true -> predicted, with the share of the true category); the figure shows the
row-normalized matrix with the categories ordered so that those confused with each other sit
together (average-linkage clustering of the symmetric confusion rates, SciPy's optimal leaf
order), beside the most confused pairs as bars.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from inkcast.data.files import write_text_atomic

PAIRS = 25  # most confused pairs listed and drawn
NAMED = 60  # up to this many categories the heatmap names every row


def confused_pairs(cm: np.ndarray, labels: list[str], n: int = PAIRS) -> list[dict[str, Any]]:
    """The ``n`` largest off-diagonal cells: true, predicted, count, share of the true category."""
    off = cm.astype(float).copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(-off, axis=None, kind="stable")[:n]
    rows = cm.sum(1)
    out = []
    for t, p in zip(*np.unravel_index(flat, cm.shape)):
        if off[t, p] == 0:
            break
        out.append({"true": labels[t], "predicted": labels[p], "count": int(cm[t, p]),
                    "share_of_true": float(cm[t, p] / rows[t])})
    return out


def confusion_order(cm: np.ndarray) -> np.ndarray:
    """Categories ordered so that mutually confused ones are neighbours (see the module doc)."""
    k = len(cm)
    if k < 3:
        return np.arange(k)
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
    from scipy.spatial.distance import squareform

    rates = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    sym = (rates + rates.T) / 2
    np.fill_diagonal(sym, 0)
    dist = 1.0 - sym / max(sym.max(), 1e-12)
    np.fill_diagonal(dist, 0)
    condensed = squareform(dist, checks=False)
    z = linkage(condensed, "average")
    return leaves_list(optimal_leaf_ordering(z, condensed))


def bars_of(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The confused pairs as the figure's bars show them: by the share they plot, largest first
    (the report's table keeps count order; a bar chart in count order put a short bar first)."""
    return sorted(pairs[:PAIRS], key=lambda p: (-p["share_of_true"], -p["count"]))


def confusion_figure(cm: np.ndarray, labels: list[str], pairs: list[dict[str, Any]]):
    """The figure of ``confusion.png``: the ordered heatmap and the most confused pairs. Its
    layout is constrained, so no title or label is cut at any number of categories."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    k = len(labels)
    order = confusion_order(cm)
    rates = (cm / np.maximum(cm.sum(1, keepdims=True), 1))[np.ix_(order, order)]
    side = min(14.0, 5 + k / 30)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(side + 7, side), gridspec_kw={"width_ratios": [side, 6]},
                                 layout="constrained")
    shown = np.where(rates > 0, rates, np.nan)
    im = ax.imshow(shown, norm=LogNorm(vmin=max(1e-3, np.nanmin(shown) if np.isfinite(shown).any() else 1e-3), vmax=1),
                   cmap="viridis", interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="share of the true category (log)")
    ax.set_title(f"confusion of {k} categories, similar ones together\n(rows: true, columns: predicted)")
    if k <= NAMED:
        names = [labels[i] for i in order]
        ax.set_xticks(range(k), names, rotation=90, fontsize=7)
        ax.set_yticks(range(k), names, fontsize=7)
    else:
        ax.set_xlabel("predicted (same order as the rows)")
        ax.set_ylabel("true category")
    top = bars_of(pairs)[::-1]  # barh draws bottom-up: the largest share on top
    bars = bx.barh(range(len(top)), [p["share_of_true"] for p in top], color="tab:red")
    bx.bar_label(bars, [f" {p['count']}" for p in top], fontsize=7)
    bx.set_yticks(range(len(top)), [f"{p['true']} → {p['predicted']}" for p in top], fontsize=8)
    bx.set_xlim(0, 1.12 * max([p["share_of_true"] for p in top], default=1.0))  # room for the counts
    bx.set_xlabel("share of the true category's drawings")
    bx.set_title(f"{len(top)} most confused pairs\n(true → predicted; count at the bar's end)")
    # a tick label at the right end would overhang the figure's edge
    bx.set_xticks([t for t in bx.get_xticks() if 0 <= t <= bx.get_xlim()[1] * 0.97])
    return fig


def plot_confusion(path: str | Path, cm: np.ndarray, labels: list[str], pairs: list[dict[str, Any]]) -> None:
    """``confusion.png``, written atomically."""
    import matplotlib.pyplot as plt

    fig = confusion_figure(cm, labels, pairs)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        Path(tmp).unlink(missing_ok=True)


def report_lines(metrics: dict[str, Any], worst: int = 20) -> list[str]:
    """The markdown of ``report.md``."""
    labels = metrics["confusion_matrix"]["labels"]
    cm = np.asarray(metrics["confusion_matrix"]["rows_true_cols_predicted"])
    per = sorted(((v, c) for c, v in metrics["per_category_top1"].items() if v is not None))
    lines = [f"# Test report: {len(labels)} categories, {metrics['count']:,} test drawings", "",
             "| top-1 | top-3 | top-5 |", "| ---: | ---: | ---: |",
             f"| {metrics['top1']:.2%} | {metrics['top3']:.2%} | {metrics.get('top5', float('nan')):.2%} |", ""]
    shown = per if len(per) <= 2 * worst else per[:worst]
    lines += [f"## {'Top-1 per category' if shown is per else f'The {worst} weakest categories'}", "",
              "| category | top-1 | test drawings |", "| --- | ---: | ---: |"]
    rows = dict(zip(labels, cm.sum(1).tolist()))
    lines += [f"| {c} | {v:.1%} | {rows[c]} |" for v, c in shown]
    if shown is not per:
        lines += ["", f"Strongest: " + ", ".join(f"{c} {v:.1%}" for v, c in per[::-1][:10])
                  + f". Every category's figure: `metrics.json` (`per_category_top1`)."]
    pairs = confused_pairs(cm, labels)
    lines += ["", "## Most confused pairs", "", "| true | predicted as | drawings | share of true |",
              "| --- | --- | ---: | ---: |"]
    lines += [f"| {p['true']} | {p['predicted']} | {p['count']} | {p['share_of_true']:.1%} |" for p in pairs]
    lines += ["", "![confusion](confusion.png)", ""]
    return lines + unknown_lines(metrics.get("unknown"))


def unknown_lines(u: dict[str, Any] | None) -> list[str]:
    """report.md's "Unknown drawings" section: the run's threshold and its open-set figures."""
    if not u:
        return []
    lines = ["## Unknown drawings", "",
             f"Threshold {u['threshold']:.4f} on the top-1 probability ({u['method']}): it keeps "
             f"{u['known_kept_target']:.0%} of the known validation drawings; below it the answer is 'unknown'."]
    if "test" not in u:
        return lines + ["No outliers were given (`--outliers DIR`): no figures for drawings of other categories.", ""]
    lines += ["Figures on outlier categories the model never trained on (validation: for choosing recipes; "
              "test: the report). FPR95 = unknown drawings accepted at the score that keeps 95 % of known ones.", "",
              "| outlier categories | drawings | AUROC | FPR95 | known kept | unknown accepted |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for role in ("validation", "test"):
        m = u[role]
        lines.append(f"| {role} ({m['unknown_categories']}) | {m['unknown_drawings']} | {m['auroc']:.4f} | "
                     f"{m['fpr95']:.1%} | {m['known_kept']:.1%} | {m['unknown_accepted']:.1%} |")
    most = ", ".join(f"{m['category']} ({m['accepted']}/{m['drawings']})" for m in u["test"]["unknown_accepted_most"])
    answered = ", ".join(f"{k} {v}" for k, v in u["test"]["unknown_accepted_as"].items())
    return lines + ["", f"Test outlier categories accepted most often: {most or 'none'}; answered as: {answered or '-'}.", ""]


def write_report(run_dir: str | Path, metrics: dict[str, Any]) -> None:
    """``report.md`` and ``confusion.png`` in ``run_dir``."""
    run = Path(run_dir)
    labels = metrics["confusion_matrix"]["labels"]
    cm = np.asarray(metrics["confusion_matrix"]["rows_true_cols_predicted"])
    plot_confusion(run / "confusion.png", cm, labels, confused_pairs(cm, labels))
    write_text_atomic(run / "report.md", "\n".join(report_lines(metrics)))
