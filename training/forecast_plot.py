"""``forecast.png``: the test period's actual values with 7-day forecasts, and MAE per horizon day.

Forecasts from every origin overlap (each day is forecast seven times), which makes an unreadable
plot; the top panel shows the forecasts made every ``horizon`` days (one per week), so each day
carries exactly one forecast per method, each segment starting where its origin's history ends.
The bottom panel shows the MAE of every horizon day over *all* test origins, with SARIMA.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from inkcast.data.series_csv import Series

COLORS = {"model": "tab:orange", "seasonal naive": "tab:blue", "sarima": "tab:green"}


def plot_forecasts(path: str | Path, series: Series, origins: np.ndarray, horizon: int,
                   forecasts: Mapping[str, np.ndarray], metrics: Mapping[str, Any]) -> None:
    """Write the figure atomically; ``forecasts`` maps a method name to (n_origins, horizon)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    origins = np.asarray(origins)
    first, last = origins[0] + 1, origins[-1] + horizon
    days = series.dates[first : last + 1].astype("datetime64[D]").astype(object)
    unit = 1e3 if np.abs(series.values[first : last + 1]).max() >= 1e4 else 1.0
    ylabel = f"{series.value_column}" + (" (thousands)" if unit != 1 else "")

    fig, axes = plt.subplots(3, 1, figsize=(14, 11), gridspec_kw={"height_ratios": [1.5, 1.5, 1.1]})
    shown = np.arange(0, len(origins), horizon)
    half = shown[len(shown) // 2]  # the second panel starts at this origin
    panels = [(axes[0], first, origins[half]), (axes[1], origins[half] + 1, last)]
    for ax, lo, hi in panels:
        d = series.dates[lo : hi + 1].astype("datetime64[D]").astype(object)
        ax.plot(d, series.values[lo : hi + 1] / unit, color="black", lw=1.4, marker=".", ms=3, label="actual")
        for name, pred in forecasts.items():
            style = {"color": COLORS.get(name, None), "lw": 1.3, "ls": "-" if name == "model" else "--"}
            labelled = False
            for i in shown:
                t = origins[i]
                if not (lo <= t + 1 <= hi):
                    continue
                days_i = series.dates[t + 1 : t + 1 + horizon].astype("datetime64[D]").astype(object)
                ax.plot(days_i, pred[i] / unit, label=None if labelled else f"{name}: 7-day forecast", **style)
                labelled = True
        for i in shown:
            if lo <= origins[i] + 1 <= hi:
                ax.axvline(series.dates[origins[i]].astype("datetime64[D]").astype(object), color="0.85", lw=0.6, zorder=0)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    m = metrics
    names = [("model", "model"), ("seasonal naive", "seasonal_naive"), ("SARIMA", "sarima")]
    summary = ", ".join(f"{label} {m[key]['mae'] / unit:,.1f}" for label, key in names if key in m)
    axes[0].set_title(f"Test period {days[0]}..{days[-1]}: forecasts made once a week (grey lines: forecast origins), "
                      f"each for the next {horizon} days\nMAE over all {len(origins)} daily origins "
                      f"({'thousands' if unit != 1 else 'units'}): {summary}")
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=3, fontsize=9, frameon=False)
    bx = axes[2]

    width = 0.27
    h = np.arange(1, horizon + 1)
    for j, (label, key) in enumerate(names):
        if key in m:
            vals = [d["mae"] / unit for d in m[key]["per_horizon"]]
            bx.bar(h + (j - 1) * width, vals, width, label=f"{label} (overall {m[key]['mae'] / unit:,.1f})",
                   color=COLORS.get(label.lower(), None))
    bx.set_xticks(h)
    bx.set_xlabel("horizon day (days after the forecast origin)")
    bx.set_ylabel("MAE" + (" (thousands)" if unit != 1 else ""))
    bx.set_title("MAE by horizon day, over all test origins")
    bx.legend(fontsize=9, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    bx.grid(axis="y", alpha=0.3)
    fig.tight_layout()

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
