"""The export's own error."""

from inkcast.runtime.errors import InkcastError


class ExportValidationError(InkcastError):
    """An exported file disagrees with the Keras model beyond the tolerance; nothing is written."""
