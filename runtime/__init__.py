"""The TensorFlow-free runtime: NumPy plus ai-edge-litert and/or onnxruntime (each optional)."""

from .errors import BackendUnavailableError, BadInputError, BundleError, InkcastError
from .forecaster import Forecaster
from .recognizer import SketchRecognizer
from .sketch_preprocess import MAX_POINTS, drawing_to_features
from .stream import SketchStream

__all__ = [
    "SketchRecognizer",
    "SketchStream",
    "Forecaster",
    "InkcastError",
    "BadInputError",
    "BundleError",
    "BackendUnavailableError",
    "MAX_POINTS",
    "drawing_to_features",
]
