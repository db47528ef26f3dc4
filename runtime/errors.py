"""Errors the runtime raises: each names the problem, so callers never see a NumPy traceback."""


class InkcastError(Exception):
    """Base class of every error inkcast raises on purpose."""


class BadInputError(InkcastError, ValueError):
    """An input (drawing, series, file line) is malformed; the message says where and why."""


class BundleError(InkcastError):
    """A bundle folder is missing a file, has an altered file, or has an unreadable manifest."""


class BackendUnavailableError(InkcastError, ImportError):
    """The requested backend's package (ai-edge-litert or onnxruntime) is not installed."""
