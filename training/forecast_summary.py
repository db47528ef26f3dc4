"""The test-period table ``inkcast train forecast`` prints: model, seasonal naive and SARIMA."""

from __future__ import annotations

from typing import Any

from inkcast.tasks.forecast import number_format


def summary_lines(m: dict[str, Any]) -> list[str]:
    """A per-horizon MAE table of the test period: model, seasonal naive, SARIMA."""
    t = m["test"]
    methods = [("model", "model"), ("seasonal naive", "seasonal_naive"), ("SARIMA", "sarima")]
    p = m["periods"]["test"]
    fmt = number_format([t[k]["mae"] for _, k in methods])
    lines = [f"test period {p['start']}..{p['end']}, {p['origins']} forecast origins; head {m['head']}; "
             f"MAE in {m['units']} (MAPE %)",
             f"{'day':>5s}" + "".join(f"{label:>24s}" for label, _ in methods)]
    for h in range(len(t["model"]["per_horizon"])):
        lines.append(f"{h + 1:5d}" + "".join(
            f"{t[k]['per_horizon'][h]['mae']:>16{fmt}} ({t[k]['per_horizon'][h]['mape']:4.1f}%)" for _, k in methods))
    lines.append(f"{'all':>5s}" + "".join(f"{t[k]['mae']:>16{fmt}} ({t[k]['mape']:4.1f}%)" for _, k in methods))
    if "weekday_median" in t:
        lines.append(f"(weekday median of the last weeks alone, the model's skip base: MAE {t['weekday_median']['mae']:{fmt}}, "
                     f"MAPE {t['weekday_median']['mape']:.1f}%)")
    acc = m["acceptance"]
    lines.append(f"model / seasonal naive = {acc['test_mae_ratio_to_seasonal_naive']:.3f} (target <= {acc['target']}: "
                 f"{'passed' if acc['passed'] else 'NOT met'}); model / SARIMA = {acc['test_mae_ratio_to_sarima']:.3f}")
    return lines
