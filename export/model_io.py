"""What a model file says about its tensors: names, shapes, dtypes and quantization parameters,
read with the runtime's own engines (LiteRT, ONNX Runtime). Shared by every task's export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def io_details(path: Path, backend: str) -> dict[str, Any]:
    """Names, shapes, dtypes and quantization of a file's input and output, read from the file."""
    if backend == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(model_path=str(path))
        out = {}
        for key, d in (("input", it.get_input_details()[0]), ("output", it.get_output_details()[0])):
            scale, zp = d["quantization"]
            out[key] = {"name": d["name"], "shape": [int(v) for v in d["shape_signature"]],
                        "dtype": np.dtype(d["dtype"]).name,
                        "quantization": {"scale": float(scale), "zero_point": int(zp)} if scale else None}
        return out
    import onnxruntime as ort

    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    dt = {"tensor(float)": "float32", "tensor(int8)": "int8", "tensor(uint8)": "uint8"}
    res = {}
    for key, d in (("input", s.get_inputs()[0]), ("output", s.get_outputs()[0])):
        res[key] = {"name": d.name, "shape": [v if isinstance(v, int) else -1 for v in d.shape],
                    "dtype": dt.get(d.type, d.type), "quantization": None}
    return res
