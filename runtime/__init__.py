"""The TensorFlow-free runtime: NumPy plus ai-edge-litert and/or onnxruntime (each optional)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BackendUnavailableError, BadInputError, BundleError, InkcastError
from .ranking import Recognition
from .recognizer import SketchRecognizer
from .sketch_preprocess import MAX_POINTS, drawing_to_features
from .stream import SketchStream

if TYPE_CHECKING:  # for type checkers and IDEs; at run time Forecaster is imported on first use
    from .forecaster import Forecaster

__all__ = [
    "SketchRecognizer",
    "SketchStream",
    "Recognition",
    "Forecaster",
    "InkcastError",
    "BadInputError",
    "BundleError",
    "BackendUnavailableError",
    "MAX_POINTS",
    "drawing_to_features",
]

# Imported on first access (PEP 562), so `from inkcast.runtime import SketchRecognizer` (a Pi app
# recognizing sketches) does not load the forecaster and its preprocessing.
_LAZY = {"Forecaster": ".forecaster"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value  # later lookups are plain attribute hits
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
