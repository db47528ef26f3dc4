"""``inkcast export RUN_DIR --out BUNDLE``: any task's run folder -> a validated bundle."""

from __future__ import annotations

import argparse

from .vocabulary import renamed


def register(sub) -> None:
    ex = sub.add_parser("export", help="export a run folder to a validated TFLite/ONNX bundle")
    ex.add_argument("run_dir")
    ex.add_argument("--out", required=True, help="bundle folder to write (atomically)")
    ex.add_argument("--variants", help="comma-separated variant names (default: the task's defaults; 'default' "
                    "stands for them), e.g. tflite-float32,tflite-int8,onnx-float32 or default,tflite-qat-int8")
    renamed(ex, "--formats", "--variants", "variants")
    ex.add_argument("--max-drop", type=float, default=0.5,
                    help="fail if a quantized variant loses more than this: top-1 points (sketch) or "
                         "%% of test MAE (forecast); default 0.5")
    ex.add_argument("--allow-drop", action="store_true",
                    help="write variants beyond --max-drop anyway, marked in the manifest")
    ex.add_argument("--calibration-samples", type=int, default=500,
                    help="training inputs used to calibrate integer variants (default 500)")
    ex.add_argument("--known-kept", type=float, default=0.95,
                    help="sketch: the 'unknown' threshold keeps this share of the known validation drawings "
                         "(default 0.95)")
    ex.add_argument("--unknown-threshold", type=float,
                    help="sketch: this top-1 probability as the 'unknown' threshold instead (0..1)")
    ex.add_argument("--temperature", type=float,
                    help="sketch: the exported probabilities are softmax(logits / T), every variant alike "
                         "(default 4; labels are unchanged)")
    ex.add_argument("--no-tflite-metadata", dest="tflite_metadata", action="store_false",
                    help="leave TFLite model metadata (name, tensor descriptions, labels) out of the .tflite "
                         "files; it needs the writer's environment: inkcast setup metadata-writer")
    ex.set_defaults(func=export_command)


def variants_arg(text: str | None) -> tuple[str, ...] | None:
    return tuple(f.strip() for f in text.split(",") if f.strip()) if text else None


def export_command(a: argparse.Namespace) -> int:
    from inkcast.export.pipeline import ExportOptions, export_run

    export_run(a.run_dir, a.out, ExportOptions(variants=variants_arg(a.variants), max_drop=a.max_drop,
                                               allow_drop=a.allow_drop, calibration_samples=a.calibration_samples,
                                               tflite_metadata=a.tflite_metadata, known_kept=a.known_kept,
                                               unknown_threshold=a.unknown_threshold, temperature=a.temperature))
    return 0
