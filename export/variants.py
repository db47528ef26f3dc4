"""The one registry of export variants: name, file, backend, dtypes, calibration, how it is made.

Every task's export goes through this table (a task spec lists which names it supports). Each
``make`` takes the :class:`Conversion` of one run and returns the file's bytes, with the real
converters (TFLite converter, tf2onnx, ONNX Runtime's quantizers, tfmot for QAT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from inkcast.tasks.base import Reference, TaskSpec


@dataclass
class Conversion:
    """One run's model and reference, converted once per format; the float ONNX graph is cached
    because the ONNX quantizers start from it."""

    spec: TaskSpec
    ref: Reference
    opset: int = 17
    _onnx: bytes | None = field(default=None, repr=False)

    @property
    def tflite_args(self) -> tuple[Any, tuple[int | None, ...], str]:
        """(Keras model, TFLite trace shape, input name): what every TFLite converter call takes."""
        return self.ref.model, self.spec.tflite_shape(self.ref), self.spec.input_name

    def onnx_float32(self) -> bytes:
        if self._onnx is None:
            from .converters import to_onnx

            self._onnx = to_onnx(self.ref.model, self.spec.onnx_shape(self.ref), self.spec.input_name,
                                 self.spec.output_name, self.opset, self.spec.onnx_metadata(self.ref))
        return self._onnx


@dataclass(frozen=True)
class Variant:
    name: str
    file: str
    backend: str
    dtype: str
    make: Callable[[Conversion], bytes]
    calibrated: bool = False  # needs the run's calibration sample (training data, never test)
    note: str = ""
    manifest_notes: Callable[[Conversion], dict[str, Any]] | None = None  # more fields for its manifest entry


def _tflite_float32(c: Conversion) -> bytes:
    from .converters import to_tflite_float32

    return to_tflite_float32(*c.tflite_args)


def _quantizer(name: str, calibrated: bool = False) -> Callable[[Conversion], bytes]:
    def make(c: Conversion) -> bytes:
        from . import quantize

        return getattr(quantize, name)(*c.tflite_args, *((c.ref.calibration,) if calibrated else ()))
    return make


def _qat(c: Conversion) -> bytes:
    from .qat import qat_int8_tflite

    if c.ref.fine_tune is None:
        from .errors import ExportValidationError

        raise ExportValidationError("tflite-qat-int8 needs the run's training sample (calibration.npz) to fine-tune on")
    return qat_int8_tflite(*c.tflite_args, c.ref.fine_tune, c.ref.calibration, c.ref.fine_tune_learning_rate,
                           c.ref.extra.get("temperature", 1.0))


def _qat_notes(c: Conversion) -> dict[str, Any]:
    from .qat import lstm_qat_error

    error = lstm_qat_error(c.ref.model)
    return {"qat_not_quantized": {"LSTM": error}} if error else {}


def _onnx_float32(c: Conversion) -> bytes:
    return c.onnx_float32()


def _onnx_dynamic(c: Conversion) -> bytes:
    from .quantize import onnx_dynamic_int8

    return onnx_dynamic_int8(c.onnx_float32())


def _onnx_static(c: Conversion) -> bytes:
    from .quantize import onnx_static_int8

    return onnx_static_int8(c.onnx_float32(), c.spec.input_name, c.ref.calibration)


VARIANTS: dict[str, Variant] = {v.name: v for v in [
    Variant("tflite-float32", "model.tflite", "tflite", "float32", _tflite_float32),
    Variant("tflite-float16", "model_float16.tflite", "tflite", "float16", _quantizer("tflite_float16"),
            note="float16 weights, float32 compute"),
    Variant("tflite-dynamic-int8", "model_dynamic_int8.tflite", "tflite", "dynamic-int8",
            _quantizer("tflite_dynamic_range"), note="int8 weights, float activations"),
    Variant("tflite-int8", "model_int8.tflite", "tflite", "int8", _quantizer("tflite_full_int8", True), True,
            "full integer: int8 weights and activations, int8 input and output"),
    Variant("tflite-16x8", "model_16x8.tflite", "tflite", "16x8", _quantizer("tflite_16x8", True), True,
            "int16 activations, int8 weights"),
    Variant("tflite-qat-int8", "model_qat_int8.tflite", "tflite", "int8", _qat, True,
            "quantization-aware trained (tfmot), full integer", _qat_notes),
    Variant("onnx-float32", "model.onnx", "onnx", "float32", _onnx_float32),
    Variant("onnx-dynamic-int8", "model_dynamic_int8.onnx", "onnx", "dynamic-int8", _onnx_dynamic,
            note="ONNX Runtime dynamic quantization, int8 weights"),
    Variant("onnx-static-int8", "model_static_int8.onnx", "onnx", "int8", _onnx_static, True,
            "static int8 QDQ, min-max calibration, per-channel weights"),
]}
