"""The one export pipeline: run folder -> converted, validated variants -> an atomic bundle.

For every task (the run folder's ``options.json`` names it; ``inkcast.tasks`` has its spec):
convert each variant (``variants.VARIANTS``), read its tensor details from the file, run it
through the runtime's own engine on the run's test split, judge it against the Keras model (the
spec's ``judge``), and log it. A ``.tflite`` file gets its TFLite metadata (``tflite_metadata``)
before it is run, so every check holds for the file that ships. Every failure is collected first
and then the export is refused whole: nothing is written unless every asked-for variant passes
(``allow_drop`` writes quantized variants beyond ``max_drop`` anyway, marked). The bundle folder
is swapped in atomically.
"""

from __future__ import annotations

import datetime as _dt
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import inkcast
from inkcast.runtime.backends import open_model
from inkcast.runtime.bundle import FORMAT_VERSION, read_json_object, sha256_of
from inkcast.runtime.errors import BadInputError, OptionsError, deprecated
from inkcast.tasks import TaskSpec, spec_for

from .accuracy_report import accuracy_report
from .bundle_writer import write_bundle
from .errors import ExportValidationError
from .model_io import io_details
from .tflite_metadata import MetadataWriterError, add_metadata, writer_python
from .variants import VARIANTS, Conversion


@dataclass
class ExportOptions:
    """What to export and how strictly to check it."""

    # None: the task's default variants; names, where "default" stands for the defaults (so
    # ("default", "tflite-qat-int8") adds QAT to them). A variant named on its own that cannot be
    # produced is an error; a default one is recorded as unavailable.
    variants: tuple[str, ...] | None = None
    max_drop: float = 0.5  # a quantized variant may lose this much: top-1 points (sketch), % of test MAE (forecast)
    allow_drop: bool = False  # write quantized variants beyond max_drop anyway, marked in the manifest
    calibration_samples: int = 500  # training inputs used to calibrate integer variants
    onnx_opset: int = 17
    tolerance: Any = None  # float32 variants: the task's tolerance dataclass (None: its defaults)
    # write TFLite model metadata (name, tensor descriptions, a classifier's labels) into the
    # .tflite variants: needs the metadata writer's environment (inkcast setup metadata-writer)
    tflite_metadata: bool = True
    # a classifier's "unknown" threshold on the top-1 probability: the one that keeps ``known_kept``
    # of the known validation drawings, or ``unknown_threshold`` when given (tasks/unknown.py)
    known_kept: float = 0.95
    unknown_threshold: float | None = None
    # a classifier's output temperature: the exported probabilities are softmax(logits / T), for
    # every variant alike (None: the task's default; see tasks/sketch.py OUTPUT_TEMPERATURE)
    temperature: float | None = None
    formats: tuple[str, ...] | None = None  # the old name of ``variants`` (deprecated)

    def __post_init__(self):
        if self.formats is not None:
            deprecated("ExportOptions(formats=)", "ExportOptions(variants=)")
            self.variants, self.formats = self.variants or self.formats, None


def run_task(run_dir: str | Path) -> str:
    """The task a run folder was trained for (its ``options.json``)."""
    path = Path(run_dir) / "options.json"
    if not path.is_file():
        raise BadInputError(f"{path}: not found; is {run_dir} a run folder made by `inkcast train`?")
    info = read_json_object(path, BadInputError, "the run's options")
    if "task" not in info:
        raise BadInputError(f"{path}: no 'task' field; is {run_dir} a run folder made by `inkcast train`?")
    return str(info["task"])


def resolve_variants(spec: TaskSpec, asked: tuple[str, ...] | None) -> tuple[tuple[str, ...], set[str]]:
    """(variants to export in order, the ones named on their own)."""
    asked = tuple(asked) if asked else ("default",)
    formats: list[str] = []
    for f in asked:
        for name in (spec.default_variants if f == "default" else (f,)):
            if name not in formats:
                formats.append(name)
    unknown = [f for f in formats if f not in spec.variants]
    if unknown:
        raise OptionsError(f"unknown variants {unknown} for a {spec.name} model; known: default, {', '.join(spec.variants)}")
    return tuple(formats), {f for f in asked if f != "default"}


def export_run(run_dir: str | Path, out_dir: str | Path, options: ExportOptions | None = None,
               log: Callable[[str], None] = print) -> dict[str, Any]:
    """Convert, validate and write the bundle of a run folder; returns the manifest.

    A variant its converter or runtime refuses, or a quantized one that fails its checks, is
    recorded under ``unavailable`` when the task's default variants were asked for, and is an
    error when it was asked for by name; a float32 file that disagrees with Keras is always one."""
    o = options or ExportOptions()
    run = Path(run_dir)
    spec = spec_for(run_task(run))
    formats, named = resolve_variants(spec, o.variants)
    tolerance = o.tolerance or spec.default_tolerance()
    tflite_md = o.tflite_metadata and any(VARIANTS[f].backend == "tflite" for f in formats)
    writer = writer_python() if tflite_md else None  # missing: said now, before any work
    ref = spec.load_reference(run, o.calibration_samples, o.temperature)
    spec.choose_unknown_threshold(ref, o.known_kept, o.unknown_threshold, log)
    metadata = spec.tflite_metadata(ref) if tflite_md else None
    log(f"Keras reference on {len(ref.inputs)} test items ...")
    conv = Conversion(spec, ref, o.onnx_opset)
    variants: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    files: dict[str, Path] = {}
    opened: dict[str, Any] = {}  # variant -> its file opened with the runtime (validation, then conformance)
    failures = []
    with tempfile.TemporaryDirectory(prefix="inkcast-export-") as tmp:
        for name in formats:
            v = VARIANTS[name]
            if v.calibrated and not ref.calibration:
                raise ExportValidationError(f"{name} needs calibration data: {run}/calibration.npz is missing")
            t0 = time.monotonic()
            path = Path(tmp) / v.file
            try:
                data = v.make(conv)
                written = None
                if metadata is not None and v.backend == "tflite":  # before validation: check the file that ships
                    data, written = add_metadata(data, metadata, writer)
                path.write_bytes(data)
                io = io_details(path, v.backend)
                quant = {"input": io["input"]["quantization"], "output": io["output"]["quantization"]}
                model = open_model(path, v.backend, quantization=quant)
                outputs = spec.run_file(model, ref)
            except (ExportValidationError, MetadataWriterError):
                raise
            except Exception as e:  # a converter or runtime refusal: report it in its own words
                msg = f"{type(e).__name__}: {' '.join(str(e).split())[:400]}"
                if name in named:  # asked for by name: that is a failure
                    raise ExportValidationError(f"{name} could not be produced or run: {msg}") from None
                unavailable[name] = msg
                log(f"  {name:20s} unavailable: {msg}")
                continue
            j = spec.judge(outputs, ref, v.dtype, tolerance, o.max_drop)
            ok = j.problem is None
            accepted = ok or (o.allow_drop and v.dtype != "float32")
            # a quantized variant nobody named that fails its checks is left out, like one its
            # converter refuses; a float32 file that disagrees, or a variant asked for, refuses all
            left_out = not accepted and v.dtype != "float32" and name not in named
            verdict = ("" if ok else "  OVER THE LIMIT (written: allow_drop)" if accepted
                       else "  FAILED: left out (a default variant; name it with --variants to require it)"
                       if left_out else "  FAILED")
            log(f"  {name:20s} {len(data) / 1e3:8.1f} kB  {j.summary}  ({time.monotonic() - t0:.1f} s){verdict}")
            if left_out:
                unavailable[name] = f"left out: failed its checks: {j.problem}"
                continue
            if not accepted:
                failures.append(f"{name}: {j.problem}")
            variants[name] = {"file": v.file, "backend": v.backend, "dtype": v.dtype, "description": v.note,
                              "size_bytes": len(data), "sha256": sha256_of(path),
                              "input": io["input"], "output": io["output"], "quantization": quant,
                              "accuracy": j.accuracy, **j.extra, "passed": ok,
                              **({} if ok else {"allowed_drop": True, "problem": j.problem}),
                              **(v.manifest_notes(conv) if v.manifest_notes else {}),
                              **({"tflite_metadata": written} if written else {})}
            files[v.file] = path
            opened[name] = model
        if failures:
            raise ExportValidationError("export refused, no bundle written: " + "; ".join(failures))
        if not variants:
            raise ExportValidationError("export refused, no bundle written: no variant could be produced")
        manifest = {
            "format_version": FORMAT_VERSION,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "inkcast_version": inkcast.__version__,
            **spec.manifest_fields(ref),
            "validation": {**{k: v for k, v in asdict(o).items() if k != "formats"}, "tolerance": asdict(tolerance),
                           "variants": list(formats),
                           **spec.validation_fields(ref)},
            "variants": variants,
            "unavailable": unavailable,
        }
        report_json, report_md = accuracy_report(manifest)
        extra = {**spec.extra_files(ref), "accuracy.json": report_json, "accuracy.md": report_md}
        conformance = spec.conformance(ref, opened)
        if conformance is not None:
            extra["conformance.json"] = conformance
        write_bundle(out_dir, files, manifest, extra_text=extra)
    log(f"bundle written to {out_dir}")
    return manifest
