"""Quantized variants: TFLite (float16, dynamic-range, full-integer int8, 16x8) and ONNX
(dynamic int8, static int8 QDQ), all with the real converters and calibration on training data.

The ONNX integer variants quantize weights to 7 bits (``reduce_range=True``, see
``ONNX_REDUCE_RANGE``) so that ONNX Runtime gives the same answers on every CPU.

Calibration samples come from the run's ``calibration.npz`` (training split only, never test),
chosen evenly across categories and across lengths, each run at its own length.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from inkcast.training.tf_env import tf

from .converters import tflite_converter, without_lstm_cell_clip


def pick_calibration(rows: Sequence[np.ndarray], labels: np.ndarray, n: int, seed: int = 0) -> list[np.ndarray]:
    """Up to n rows spread over categories and, within each, over the range of lengths."""
    rng = np.random.default_rng(seed)
    cats = np.unique(labels)
    per = max(1, n // max(len(cats), 1))
    out: list[np.ndarray] = []
    for c in cats:
        idx = np.flatnonzero(labels == c)
        idx = idx[np.argsort([len(rows[i]) for i in idx], kind="stable")]  # short to long
        take = np.unique(np.linspace(0, len(idx) - 1, min(per, len(idx))).round().astype(int))
        out.extend(rows[i] for i in idx[take])
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def representative(samples: Sequence[np.ndarray]):
    def gen():
        for r in samples:
            yield [np.asarray(r, np.float32)[None]]
    return gen


def tflite_float16(model, input_shape, input_name) -> bytes:
    c = tflite_converter(model, input_shape, input_name)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.target_spec.supported_types = [tf.float16]
    return without_lstm_cell_clip(c.convert())


def tflite_dynamic_range(model, input_shape, input_name) -> bytes:
    """int8 weights, float activations computed with int8 kernels where possible."""
    c = tflite_converter(model, input_shape, input_name)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    return without_lstm_cell_clip(c.convert())


def tflite_full_int8(model, input_shape, input_name, samples) -> bytes:
    """Every op in int8, int8 input and output (what Edge TPU / NPUs / Ethos-U require)."""
    c = tflite_converter(model, input_shape, input_name)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = representative(samples)
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = tf.int8
    c.inference_output_type = tf.int8
    return c.convert()


def tflite_16x8(model, input_shape, input_name, samples) -> bytes:
    """int16 activations, int8 weights. The step mask's GREATER has no 16x8 kernel, so builtin
    float ops are allowed as a fallback for the ops 16x8 cannot take (TFLite's documented way)."""
    c = tflite_converter(model, input_shape, input_name)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = representative(samples)
    c.target_spec.supported_ops = [
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
        tf.lite.OpsSet.TFLITE_BUILTINS,
    ]
    return c.convert()


# Why 7-bit weights (reduce_range=True) for every ONNX integer variant, the LSTM pass included:
# on x86-64 CPUs without VNNI (AVX2 / AVX-512 only, like the machine that builds and checks the
# bundles), ONNX Runtime multiplies uint8 activations by int8 weights with VPMADDUBSW, which adds
# two u8*s8 products into a 16-bit lane: 2 * 255 * 127 = 64770 does not fit and saturates at
# 32767. ORT's Arm kernels and VNNI keep the sums in 32 bits and do not saturate, so the same file
# gave different answers on x86-64 and aarch64: runs/final with 8-bit weights, on the 200 real
# drawings of scripts/check-aarch64.sh, max |dp| 0.11 (dynamic) and 0.22 (static). reduce_range
# puts int8 weights in [-64, 64]: a pair is then at most 2 * 255 * 64 = 32640 and cannot
# saturate (activations keep their full 8 bits). Measured before this change: with ORT's x86
# escape hatch `session.x64quantprecision=1` (it rewrites such weights to u8 at load time) the
# 8-bit files matched aarch64 to 1.2e-7 (dynamic) and exactly (static), so saturation was the
# whole difference.
# Sources: ORT's docstrings of quantize_dynamic / quantize_static (onnxruntime 1.31,
# quantization/quantize.py): "reduce_range: quantize weights with 7-bits. It may improve the
# accuracy for some models running on non-VNNI machine, especially for per-channel mode";
# ORT PR #12088 "x86/64 U8S8 Gemm Precision Fix" (the u8s8 overflow on SSE4.1/AVX2/AVX-512
# without VNNI for weights outside [-64, 63], in MatMulInteger, QLinearConv, QLinearMatMul,
# DynamicQuantizeLSTM, ...); ORT PR #28415 (quantization docs: reduce_range=True on x86-64 without
# VNNI, not needed on VNNI or Arm); ORT issues #5849 and #20479 (quantized models giving different
# results on non-VNNI vs VNNI x86, and on x86-64 vs aarch64).
# The cost: one bit less weight precision on every CPU, Arm included (per-channel scales keep it
# small; docs/QUANTIZATION.md has the accuracy before and after).
ONNX_REDUCE_RANGE = True


def onnx_dynamic_int8(float_onnx: bytes, reduce_range: bool = ONNX_REDUCE_RANGE) -> bytes:
    """ONNX Runtime dynamic quantization: per-channel 7-bit-range int8 weights (see
    ONNX_REDUCE_RANGE), activations quantized on the fly."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d) / "in.onnx", Path(d) / "out.onnx"
        src.write_bytes(float_onnx)
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=reduce_range)
        return dst.read_bytes()


class _Reader:
    """ONNX Runtime calibration reader: one sample at a time, at its own length."""

    def __init__(self, input_name: str, samples: Sequence[np.ndarray]):
        self.it = iter([{input_name: np.asarray(r, np.float32)[None]} for r in samples])

    def get_next(self):
        return next(self.it, None)


def onnx_static_int8(float_onnx: bytes, input_name: str, samples: Sequence[np.ndarray],
                     nodes_to_exclude: Sequence[str] = (), reduce_range: bool = ONNX_REDUCE_RANGE) -> bytes:
    """Static int8 in QDQ format, calibrated (min-max) on training samples, per-channel weights.

    ONNX Runtime's static quantizer has no LSTM: left alone the LSTM weights stay float and the
    file is 93 % of float32. They are then quantized to int8 with ORT's DynamicQuantizeLSTM, which
    brings the file to ~29 % at the same top-1 (measured: 94.69 % either way).
    Both passes use 7-bit-range weights (reduce_range, see ONNX_REDUCE_RANGE); activations keep
    the full int8 range."""
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType, quantize_dynamic,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as d:
        src, pre, dst = Path(d) / "in.onnx", Path(d) / "pre.onnx", Path(d) / "out.onnx"
        src.write_bytes(float_onnx)
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(dst), _Reader(input_name, samples), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, per_channel=True,
                        calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=list(nodes_to_exclude),
                        reduce_range=reduce_range)
        final = Path(d) / "final.onnx"
        quantize_dynamic(str(dst), str(final), op_types_to_quantize=["LSTM"], weight_type=QuantType.QInt8,
                         reduce_range=reduce_range)
        return final.read_bytes()
