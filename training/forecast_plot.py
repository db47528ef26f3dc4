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

from .series_csv import Series

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

    fig, (ax, bx) = plt.subplots(2, 1, figsize=(14, 8.5), gridspec_kw={"height_ratios": [2.2, 1]})
    ax.plot(days, series.values[first : last + 1] / unit, color="black", lw=1.4, label="actual")
    shown = np.arange(0, len(origins), horizon)
    for name, pred in forecasts.items():
        style = {"color": COLORS.get(name, None), "lw": 1.3, "ls": "-" if name == "model" else "--"}
        for k, i in enumerate(shown):
            t = origins[i]
            d = series.dates[t + 1 : t + 1 + horizon].astype("datetime64[D]").astype(object)
            ax.plot(d, pred[i] / unit, label=f"{name} (7-day forecast, one per week)" if k == 0 else None, **style)
    for i in shown:
        ax.axvline(series.dates[origins[i]].astype("datetime64[D]").astype(object), color="0.85", lw=0.6, zorder=0)
    m = metrics
    names = [("model", "model"), ("seasonal naive", "seasonal_naive"), ("SARIMA", "sarima")]
    summary = ", ".join(f"{label} {m[key]['mae'] / unit:,.1f}" for label, key in names if key in m)
    ax.set_title(f"Test period {days[0]}..{days[-1]}: 7-day forecasts (grey lines: forecast origins)\n"
                 f"MAE over all {len(origins)} origins ({'thousands' if unit != 1 else 'units'}): {summary}")
    ax.set_ylabel(ylabel)
    ax.legend(loc="lower left", fontsize=9)
    ax.grid(alpha=0.3)

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
    bx.legend(fontsize=9, ncol=3, loc="lower right")
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
