"""The two inference engines behind one call: ``run(x float32 (n, T, F)) -> float32 outputs``.

Each backend imports its package lazily, so the runtime needs only the one it uses. Integer
models take and give int8/int16 tensors: the backend quantizes inputs and dequantizes outputs
with the parameters stored in the model, so callers only ever see float32.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BackendUnavailableError, BundleError

BACKENDS = ("tflite", "onnx")


def _quantize(x: np.ndarray, scale: float, zero_point: int, dtype: np.dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    q = np.round(x / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def _dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return ((q.astype(np.float32) - zero_point) * scale).astype(np.float32)


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
        self.fixed_length = None if self._in["shape_signature"][1] == -1 else int(self._in["shape"][1])

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
                x = _quantize(x, scale, zp, self.input_dtype)
            self._it.reset_all_variables()
            self._it.set_tensor(self._in["index"], x)
            self._it.invoke()
            y = self._it.get_tensor(self._out["index"])
            if y.dtype != np.float32:
                scale, zp = self._out["quantization"]
                y = _dequantize(y, scale, zp)
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
        self._q = quantization or {}
        self.input_dtype = np.dtype(np.int8) if self._in.type == "tensor(int8)" else np.dtype(np.float32)

    def run(self, x: np.ndarray) -> np.ndarray:
        if self.input_dtype != np.float32:
            q = self._q["input"]
            x = _quantize(x, q["scale"], q["zero_point"], self.input_dtype)
        y = self._sess.run([self._out_name], {self._in.name: x})[0]
        if y.dtype != np.float32:
            q = self._q["output"]
            y = _dequantize(y, q["scale"], q["zero_point"])
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
    raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
