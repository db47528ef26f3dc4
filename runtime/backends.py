"""The two inference engines behind one call: ``run(x float32 (n, T, F)) -> float32 outputs``.

Each backend imports its package lazily, so the runtime needs only the one it uses. Integer
models take and give int8/int16 tensors: the backend quantizes inputs and dequantizes outputs
with the parameters stored in the model, so callers only ever see float32.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import BackendUnavailableError, BundleError, OptionsError

BACKENDS = ("tflite", "onnx")


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype: np.dtype) -> np.ndarray:
    """float -> integer tensor: round(x / scale) + zero_point, saturated to the dtype's range."""
    info = np.iinfo(dtype)
    q = np.round(x / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """integer -> float32 tensor: (q - zero_point) * scale."""
    return ((q.astype(np.float32) - zero_point) * scale).astype(np.float32)


def _params(d: dict[str, Any] | None) -> tuple[float, int] | None:
    return None if not d else (float(d["scale"]), int(d["zero_point"]))


class TFLiteModel:
    """A .tflite file run by LiteRT (``ai_edge_litert``), one sample per ``invoke``.

    The exported graphs have batch 1 and a free time axis, so every drawing runs at its own
    length. The fused LSTM keeps its state between invokes: ``reset_all_variables`` before each
    one is required, or later predictions silently depend on earlier ones.
    One interpreter is not thread-safe; a lock serializes callers sharing this object.
    """

    backend = "tflite"

    def __init__(self, path: str | Path, num_threads: int | None = None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:
            raise BackendUnavailableError(
                "the tflite backend needs ai-edge-litert: pip install 'inkcast[tflite]'"
            ) from e
        try:
            self._it = Interpreter(model_path=str(path), num_threads=num_threads)
        except (ValueError, RuntimeError) as e:
            raise BundleError(f"{path}: LiteRT cannot load this model ({e})") from None
        self._in = self._it.get_input_details()[0]
        self._out = self._it.get_output_details()[0]
        self._shape: tuple[int, ...] | None = None
        self._lock = threading.Lock()
        self.input_dtype = np.dtype(self._in["dtype"])
        self.output_dtype = np.dtype(self._out["dtype"])
        self.fixed_length = None if self._in["shape_signature"][1] == -1 else int(self._in["shape"][1])

    @property
    def input_quantization(self) -> tuple[float, int] | None:
        """(scale, zero_point) of an integer input tensor; None for a float input."""
        return None if self.input_dtype == np.float32 else tuple(self._in["quantization"])

    @property
    def output_quantization(self) -> tuple[float, int] | None:
        """(scale, zero_point) of an integer output tensor; None for a float output."""
        return None if self.output_dtype == np.float32 else tuple(self._out["quantization"])

    def _prepare(self, shape: tuple[int, ...]) -> None:
        if shape != self._shape:
            self._it.resize_tensor_input(self._in["index"], list(shape), strict=False)
            self._it.allocate_tensors()
            self._in = self._it.get_input_details()[0]
            self._out = self._it.get_output_details()[0]
            self._shape = shape

    def invoke_one(self, x: np.ndarray) -> np.ndarray:
        """Run one (1, T, F) float32 sample; returns the float32 output row."""
        with self._lock:
            self._prepare(tuple(x.shape))
            if self.input_dtype != np.float32:
                scale, zp = self._in["quantization"]
                x = quantize(x, scale, zp, self.input_dtype)
            self._it.reset_all_variables()
            self._it.set_tensor(self._in["index"], x)
            self._it.invoke()
            y = self._it.get_tensor(self._out["index"])
            if y.dtype != np.float32:
                scale, zp = self._out["quantization"]
                y = dequantize(y, scale, zp)
            return y[0].copy()

    def run(self, x: np.ndarray) -> np.ndarray:
        return np.stack([self.invoke_one(x[i : i + 1]) for i in range(len(x))])


class OnnxModel:
    """A .onnx file run by ONNX Runtime on the CPU; takes a whole (n, T, F) batch at once."""

    backend = "onnx"
    fixed_length = None

    def __init__(self, path: str | Path, num_threads: int | None = None,
                 quantization: dict[str, Any] | None = None):
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise BackendUnavailableError(
                "the onnx backend needs onnxruntime: pip install 'inkcast[onnx]'"
            ) from e
        opts = ort.SessionOptions()
        if num_threads:
            opts.intra_op_num_threads = num_threads
            opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self._sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise BundleError(f"{path}: ONNX Runtime cannot load this model ({e})") from None
        self._in = self._sess.get_inputs()[0]
        self._out_name = self._sess.get_outputs()[0].name
        q = quantization or {}
        self.input_dtype = np.dtype(np.int8) if self._in.type == "tensor(int8)" else np.dtype(np.float32)
        # ONNX files carry no tensor-level parameters: integer I/O uses the manifest's
        self.input_quantization = _params(q.get("input")) if self.input_dtype != np.float32 else None
        self.output_quantization = _params(q.get("output"))

    def run(self, x: np.ndarray) -> np.ndarray:
        if self.input_quantization is not None:
            x = quantize(x, *self.input_quantization, self.input_dtype)
        y = self._sess.run([self._out_name], {self._in.name: x})[0]
        if y.dtype != np.float32:
            if self.output_quantization is None:
                raise BundleError(f"the model gives {y.dtype} outputs but the manifest has no output quantization")
            y = dequantize(y, *self.output_quantization)
        return y

    def invoke_one(self, x: np.ndarray) -> np.ndarray:
        return self.run(x)[0]


def open_model(path: str | Path, backend: str, num_threads: int | None = None,
               quantization: dict[str, Any] | None = None):
    """Open a model file with the named backend (``tflite`` or ``onnx``)."""
    if backend == "tflite":
        return TFLiteModel(path, num_threads)
    if backend == "onnx":
        return OnnxModel(path, num_threads, quantization)
    raise OptionsError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")


def run_by_length(model: Any, rows: Sequence[np.ndarray]) -> np.ndarray:
    """Outputs of an opened model for ragged (length_i, F) rows, each run at its own length, in order.

    Rows of equal length share one ``run`` call (ONNX takes the batch at once; TFLite loops)."""
    by_len: dict[int, list[int]] = {}
    for i, r in enumerate(rows):
        by_len.setdefault(len(r), []).append(i)
    out: np.ndarray | None = None
    for idx in by_len.values():
        y = model.run(np.stack([rows[i] for i in idx]).astype(np.float32, copy=False))
        if out is None:
            out = np.zeros((len(rows),) + y.shape[1:], np.float32)
        out[idx] = y
    if out is None:
        raise ValueError("no rows to run")
    return out
