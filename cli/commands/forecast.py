"""``inkcast forecast BUNDLE FILE.csv``: the next days after the last date of a CSV."""

from __future__ import annotations

import argparse

from .vocabulary import add_input, add_signed_by, add_variant


def register(sub) -> None:
    fc = sub.add_parser("forecast", help="the next seven days after the last date of a CSV file")
    fc.add_argument("bundle")
    add_input(fc, "the CSV file whose last days are the model's input")
    fc.add_argument("--date-column", help="default: the column the bundle was trained on")
    fc.add_argument("--value-column", help="default: the column the bundle was trained on")
    fc.add_argument("--date-format")
    add_variant(fc)
    add_signed_by(fc)
    fc.set_defaults(func=forecast_command)


def forecast_command(a: argparse.Namespace) -> int:
    """The CSV is read with the training run's columns and fill policy (unless given); it must end
    with at least ``window`` consecutive days."""
    from inkcast.data.series_csv import read_series
    from inkcast.runtime.forecaster import Forecaster

    f = Forecaster(a.bundle, backend=a.backend, variant=a.variant, signed_by=a.signed_by)
    info = f.series
    value_column = a.value_column or info.get("value_column")
    s = read_series(a.data, a.date_column or info.get("date_column"), value_column, a.date_format, info.get("fill"))
    rows = f.forecast(s.dates, s.values)
    print(f"# {value_column}: the {f.horizon} days after {s.end} (from {len(s)} days in {a.data}; model {f.variant})")
    for day, value in rows:
        print(f"{day.isoformat()}\t{value:.1f}")
    return 0
