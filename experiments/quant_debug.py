"""Per-layer quantization error of the full-integer TFLite variant (TFLite's QuantizationDebugger).

Runs the float and int8 graphs side by side on calibration drawings and reports, per quantized
tensor, the RMSE of the int8 value against the float one divided by the quantization scale
(about 0.29 is the ideal rounding error; much more means that layer loses information).
Usage, from the repository root: python -m experiments.quant_debug RUN_DIR [--samples N] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inkcast.data.rows import load_rows
from inkcast.export.converters import tflite_converter
from inkcast.export.quantize import pick_calibration, representative
from inkcast.tasks.sketch import INPUT_NAME, SketchSpec
from inkcast.training.tf_env import tf


def layer_errors(run_dir: str | Path, samples: int = 100) -> list[dict]:
    model = SketchSpec().load_model(run_dir)
    rows, y, _ = load_rows(Path(run_dir) / "calibration.npz")
    # The debugger cannot resize its interpreters between samples: left-pad every sample to one
    # length (the network is padding-invariant, so this changes no float result).
    from inkcast.runtime.sketch_preprocess import pad_left

    cal = [pad_left([r], 64)[0] for r in pick_calibration(rows, y, samples) if len(r) <= 64]
    c = tflite_converter(model, (1, None, 3), INPUT_NAME)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = representative(cal)
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    debugger = tf.lite.experimental.QuantizationDebugger(converter=c, debug_dataset=representative(cal))
    debugger.run()
    import csv
    import io

    buf = io.StringIO()
    debugger.layer_statistics_dump(buf)
    out = []
    for r in csv.DictReader(io.StringIO(buf.getvalue())):
        scale = float(r["scale"]) if r.get("scale") else float("nan")
        rmse = float(r["mean_squared_error"]) ** 0.5 if r.get("mean_squared_error") else float("nan")
        out.append({"op": r["op_name"], "tensor": r["tensor_name"], "scale": scale,
                    "rmse": rmse, "rmse_over_scale": rmse / scale if scale else float("nan")})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.quant_debug", description=__doc__.splitlines()[0])
    p.add_argument("run_dir")
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--out")
    a = p.parse_args(argv)
    rows = layer_errors(a.run_dir, a.samples)
    print(f"{'op':32s} {'tensor':60s} {'rmse/scale':>10s}")
    for r in rows:
        print(f"{r['op']:32s} {r['tensor'][:60]:60s} {r['rmse_over_scale']:10.3f}")
    if a.out:
        Path(a.out).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
