"""The export's own error."""

from inkcast.runtime.errors import InkcastError


class ExportValidationError(InkcastError):
    """An exported file disagrees with the Keras model beyond the tolerance; nothing is written."""


class BundleWriteError(InkcastError):
    """The bundle could not be written (a full disk, a read-only folder); the previous one is kept."""
