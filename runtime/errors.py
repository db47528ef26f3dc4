"""Errors inkcast raises on purpose: each names the problem, so callers never see a NumPy traceback.

One rule: bad data -> ``BadInputError``; a bad or refused bundle -> ``BundleError``; a missing
optional dependency -> ``BackendUnavailableError``; an option that cannot work -> ``OptionsError``;
all of them ``InkcastError``. The command line maps each to its own exit status (``EXIT_CODES``).
"""


class InkcastError(Exception):
    """Base class of every error inkcast raises on purpose."""


class BadInputError(InkcastError, ValueError):
    """An input (drawing, series, file line) is malformed; the message says where and why."""


class BundleError(InkcastError):
    """A bundle folder is missing a file, has an altered file, or has an unreadable manifest."""


class BackendUnavailableError(InkcastError, ImportError):
    """The requested backend's package (ai-edge-litert or onnxruntime) is not installed."""


class OptionsError(InkcastError, ValueError):
    """An option or argument has a value that cannot work (an unknown backend, a negative count)."""


# ``inkcast``'s exit statuses (docs/CLI.md): 2 is argparse's usage error, shared by OptionsError
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_BUNDLE_REFUSED, EXIT_EXPORT_REFUSED, EXIT_MISSING_EXTRA = range(7)


def deprecated(old: str, new: str) -> None:
    """Warn once per call site that ``old`` is ``new`` now (kept for one release; README, "Renamed")."""
    import warnings

    warnings.warn(f"{old} is deprecated: use {new}", DeprecationWarning, stacklevel=3)
