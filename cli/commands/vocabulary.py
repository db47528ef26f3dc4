"""The command line's one vocabulary, shared by every command, and the old names it still accepts.

"variant" names a bundle's model file (``--variant``, ``--variants``), "format" only a data file;
``--signed-by`` is wherever a bundle is opened; inputs are positional. A renamed flag keeps
working for one release with a warning on stderr (``RENAMED``; README, "Renamed options").
"""

from __future__ import annotations

import argparse
import sys

# old flag -> (new flag, commands): the README's table is made from this one
RENAMED = {
    "--format": ("--variant", "predict, evaluate, forecast, serve"),
    "--formats": ("--variants", "export, demo"),
    "--public-key": ("--signed-by", "verify"),
    "--data": ("DATA (positional)", "train sketch, train forecast, evaluate, forecast, bench"),
    "--limit": ("--max-drawings", "predict"),
    "--per-category": ("--latency-per-category", "bench"),
    "--accuracy-per-category": ("--max-per-category", "bench"),
}


class Renamed(argparse.Action):
    """An old flag: stores into the new one's ``dest`` and says so on stderr."""

    def __init__(self, option_strings, dest, new: str = "", **kwargs):
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"inkcast: warning: {option_string} is deprecated: use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def renamed(parser: argparse.ArgumentParser, old: str, new: str, dest: str, **kwargs) -> None:
    """Accept ``old`` as a hidden alias of the option stored in ``dest`` (named ``new``)."""
    parser.add_argument(old, dest=dest, action=Renamed, new=new, help=argparse.SUPPRESS, **kwargs)


def add_variant(parser: argparse.ArgumentParser, backend_default: str | None = "tflite",
                every_by_default: bool = False) -> None:
    """``--backend`` and ``--variant``, with one rule: ``--variant`` names one model file of the
    bundle; ``--backend`` takes that engine's float32 variant; with neither, a command that answers
    (predict, forecast, serve) uses tflite-float32 and one that compares (evaluate, bench) every variant."""
    default = "every variant" if every_by_default else f"{backend_default}-float32"
    parser.add_argument("--backend", choices=["tflite", "onnx"], default=None if every_by_default else backend_default,
                        help=f"the engine whose float32 variant to use (default: {default})")
    parser.add_argument("--variant", help="a variant by its manifest name, e.g. tflite-int8 (overrides --backend)")
    renamed(parser, "--format", "--variant", "variant")


def add_signed_by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--signed-by", metavar="PUBLIC_KEY_PEM",
                        help="refuse a bundle without a valid signature by this EC public key (needs inkcast[sign])")


def add_input(parser: argparse.ArgumentParser, help: str) -> None:
    """The command's input as a positional ``DATA``, with ``--data`` as its old name."""
    parser.add_argument("data", nargs="?", metavar="DATA", help=help)
    renamed(parser, "--data", "DATA (positional)", "data_flag")


def input_of(a: argparse.Namespace, required: bool = True) -> str | None:
    """The positional input or its old ``--data`` (not both)."""
    from inkcast.runtime.errors import OptionsError

    given = [v for v in (a.data, getattr(a, "data_flag", None)) if v is not None]
    if len(given) > 1:
        raise OptionsError("give the input once: as DATA or with the deprecated --data, not both")
    if required and not given:
        raise OptionsError("the input DATA is missing")
    return given[0] if given else None
