"""The TensorFlow-free runtime: NumPy plus ai-edge-litert and/or onnxruntime (each optional).

The public API is ``__all__`` below; every name in it is documented and typed (``py.typed``).

| name | what it answers |
| --- | --- |
| ``SketchRecognizer(bundle, backend="tflite", variant=None, signed_by=None)`` | ``predict(drawing)`` -> ``Prediction`` (the top-k ``[(label, p), ...]``); ``recognize(drawing)`` -> ``Recognition`` (a label or None for "unknown", with the top-k); ``*_batch`` for many; ``features``/``probabilities`` for the model's input and output; ``stream()`` |
| ``SketchStream`` | ``add_stroke``/``add_points``/``end_stroke`` -> ``Prediction``; ``recognize()`` -> ``Recognition`` or None before there is anything to recognize |
| ``Forecaster(bundle, backend="tflite", variant=None, signed_by=None)`` | ``predict(last_values)`` -> ``np.ndarray`` of the next days; ``forecast(dates, values)`` -> ``[(date, value), ...]`` |
| ``SketchPreprocessing`` | the preprocessing contract of a bundle (``SketchPreprocessing.from_dict(manifest["preprocessing"]).features_of(drawing)``) |
| errors | ``InkcastError`` and its kinds: ``BadInputError`` (bad data), ``BundleError`` (bad or refused bundle), ``BackendUnavailableError`` (missing extra), ``OptionsError`` (an option that cannot work) |

Every method that takes a drawing takes Google's simplified strokes or raw touch strokes, and
``raw=None`` (the default) detects which, the same way in each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BackendUnavailableError, BadInputError, BundleError, InkcastError, OptionsError
from .ranking import Prediction, Recognition
from .recognizer import SketchRecognizer
from .sketch_preprocess import MAX_POINTS, SketchPreprocessing
from .stream import SketchStream

if TYPE_CHECKING:  # for type checkers and IDEs; at run time Forecaster is imported on first use
    from .forecaster import Forecaster

__all__ = [
    "SketchRecognizer",
    "SketchStream",
    "Prediction",
    "Recognition",
    "Forecaster",
    "SketchPreprocessing",
    "InkcastError",
    "BadInputError",
    "BundleError",
    "BackendUnavailableError",
    "OptionsError",
    "MAX_POINTS",
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
    if name == "drawing_to_features":  # its default spacing is one bundle's, not every bundle's
        from .errors import deprecated
        from .sketch_preprocess import drawing_to_features

        deprecated("inkcast.runtime.drawing_to_features",
                   "SketchRecognizer.features (the bundle's own preprocessing) or SketchPreprocessing.features_of")
        return drawing_to_features
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
