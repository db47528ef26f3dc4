"""``inkcast train forecast``: command-line arguments -> ``ForecastOptions`` -> ``train_forecast``."""

from __future__ import annotations

import argparse
from typing import Any

from .forecast_options import ForecastOptions

# argparse destination -> ForecastOptions field, for the arguments `inkcast train forecast` takes
ARGUMENTS = {
    "date_column": "date_column", "value_column": "value_column", "date_format": "date_format", "fill": "fill",
    "train_start": "train_start", "train_end": "train_end", "valid_start": "val_start", "valid_end": "val_end",
    "test_start": "test_start", "test_end": "test_end", "window": "window", "epochs": "max_epochs",
    "seed": "seed", "head": "head", "patience": "patience",
}


def options_from_args(a: argparse.Namespace) -> ForecastOptions:
    """The defaults, overridden by every argument that was given (None means not given)."""
    given = {field: getattr(a, dest) for dest, field in ARGUMENTS.items() if getattr(a, dest, None) is not None}
    return ForecastOptions.from_dict({**ForecastOptions().to_dict(), **given})


def summary_lines(m: dict[str, Any]) -> list[str]:
    """A per-horizon MAE table of the test period: model, seasonal naive, SARIMA."""
    t = m["test"]
    methods = [("model", "model"), ("seasonal naive", "seasonal_naive"), ("SARIMA", "sarima")]
    p = m["periods"]["test"]
    lines = [f"test period {p['start']}..{p['end']}, {p['origins']} forecast origins; head {m['head']}; "
             f"MAE in {m['units']} (MAPE %)",
             f"{'day':>5s}" + "".join(f"{label:>24s}" for label, _ in methods)]
    for h in range(len(t["model"]["per_horizon"])):
        lines.append(f"{h + 1:5d}" + "".join(
            f"{t[k]['per_horizon'][h]['mae']:>16,.0f} ({t[k]['per_horizon'][h]['mape']:4.1f}%)" for _, k in methods))
    lines.append(f"{'all':>5s}" + "".join(f"{t[k]['mae']:>16,.0f} ({t[k]['mape']:4.1f}%)" for _, k in methods))
    if "weekday_median" in t:
        lines.append(f"(weekday median of the last weeks alone, the model's skip base: MAE {t['weekday_median']['mae']:,.0f}, "
                     f"MAPE {t['weekday_median']['mape']:.1f}%)")
    acc = m["acceptance"]
    lines.append(f"model / seasonal naive = {acc['test_mae_ratio_to_seasonal_naive']:.3f} (target <= {acc['target']}: "
                 f"{'passed' if acc['passed'] else 'NOT met'}); model / SARIMA = {acc['test_mae_ratio_to_sarima']:.3f}")
    return lines


def train_forecast_cli(a: argparse.Namespace) -> int:
    """Train, write the run folder ``a.out``, print the test table. Bad input raises BadInputError.

    The CSV and the split dates are checked before TensorFlow is imported, so a bad file or date
    is reported in a second rather than after TensorFlow's start-up.
    """
    from .forecast_splits import make_splits
    from .series_csv import read_series

    o = options_from_args(a)
    make_splits(read_series(a.data, o.date_column, o.value_column, o.date_format, o.fill), o)
    from .train_forecast import train_forecast

    m = train_forecast(o, a.data, a.out, progress=True)
    print("\n".join(summary_lines(m)))
    print(f"run folder: {a.out} (metrics.json, forecast.png, model.weights.h5, options.json, preprocessing.json)")
    return 0
