"""The `inkcast` command: data, train, export, evaluate, predict, forecast, bench, serve, sign, verify, setup, demo.

Each command group lives in ``inkcast.commands``; commands that need TensorFlow (train, export,
demo, and data prepare through TensorFlow Datasets) import it only when they run, so `predict`, `evaluate`, `forecast` and `bench` work with
the runtime alone.
"""

from __future__ import annotations

import argparse
import sys

from inkcast import __version__

from .commands import bench, data, demo, evaluate, export, forecast, predict, serve, setup, sign, train

COMMANDS = (data, train, export, evaluate, predict, forecast, bench, serve, sign, setup, demo)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="inkcast", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"inkcast {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    return p


# commands whose DATA input is required (the others default to the run's stored split)
INPUT_REQUIRED = {"train_sketch_command", "train_forecast_command", "forecast_command"}


def exit_code(e: BaseException) -> int:
    """The documented exit status of an error (README, "Exit statuses"): what a script can act on."""
    from inkcast.export.errors import ExportValidationError
    from inkcast.runtime import errors as E

    for kind, code in ((E.OptionsError, E.EXIT_USAGE), (E.BadInputError, E.EXIT_BAD_INPUT),
                       (FileNotFoundError, E.EXIT_BAD_INPUT), (E.BundleError, E.EXIT_BUNDLE_REFUSED),
                       (ExportValidationError, E.EXIT_EXPORT_REFUSED), (E.BackendUnavailableError, E.EXIT_MISSING_EXTRA)):
        if isinstance(e, kind):
            return code
    return E.EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # as given: --local-workers passes it on
    from inkcast.runtime.errors import InkcastError

    try:
        if hasattr(args, "data_flag"):  # a positional DATA, or its deprecated --data
            from .commands.vocabulary import input_of

            args.data = input_of(args, required=args.func.__name__ in INPUT_REQUIRED)
        return int(args.func(args) or 0)
    except (InkcastError, FileNotFoundError, ValueError) as e:
        print(f"inkcast: error: {e}", file=sys.stderr)
        return exit_code(e)
