"""The runtime never imports TensorFlow: checked in a fresh interpreter."""

import json
import subprocess
import sys

SCRIPT = r"""
import json, sys
from inkcast.runtime import SketchRecognizer
drawing = json.loads(sys.argv[2])
out = {}
for backend in ("tflite", "onnx"):
    r = SketchRecognizer(sys.argv[1], backend=backend)
    out[backend] = r.predict(drawing)
    r.predict_batch([drawing, drawing])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "tf_keras", "keras", "tf2onnx"))
print(json.dumps({"heavy": heavy, "top": out}))
"""


def test_runtime_process_never_imports_tensorflow(sketch_bundle, test_drawings):
    drawing = test_drawings[0]["drawing"]
    res = subprocess.run([sys.executable, "-c", SCRIPT, str(sketch_bundle), json.dumps(drawing)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []
    assert out["top"]["tflite"][0][0] == out["top"]["onnx"][0][0]
