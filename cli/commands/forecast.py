"""``inkcast forecast BUNDLE --data FILE.csv``: the next days after the last date of a CSV."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    fc = sub.add_parser("forecast", help="the next seven days after the last date of a CSV file")
    fc.add_argument("bundle")
    fc.add_argument("--data", required=True)
    fc.add_argument("--date-column", help="default: the column the bundle was trained on")
    fc.add_argument("--value-column", help="default: the column the bundle was trained on")
    fc.add_argument("--date-format")
    fc.add_argument("--backend", choices=["tflite", "onnx"], default="tflite")
    fc.add_argument("--format")
    fc.set_defaults(func=forecast_command)


def forecast_command(a: argparse.Namespace) -> int:
    """The CSV is read with the training run's columns and fill policy (unless given); it must end
    with at least ``window`` consecutive days."""
    from inkcast.data.series_csv import read_series
    from inkcast.runtime.forecaster import Forecaster

    f = Forecaster(a.bundle, backend=a.backend, format=a.format)
    info = f.series
    value_column = a.value_column or info.get("value_column")
    s = read_series(a.data, a.date_column or info.get("date_column"), value_column, a.date_format, info.get("fill"))
    rows = f.forecast(s.dates, s.values)
    print(f"# {value_column}: the {f.horizon} days after {s.end} (from {len(s)} days in {a.data}; model {f.format})")
    for day, value in rows:
        print(f"{day.isoformat()}\t{value:.1f}")
    return 0
