"""The sketch task: Quick, Draw! strokes -> class probabilities (``SketchRecognizer``).

Model input ``strokes`` (batch, time, 3) rows of ``runtime.sketch_preprocess``; output
``probabilities`` (batch, n_labels) in label order. Test data is the key_id-hash test split of a
folder of ``<category>.ndjson`` (or the run's stored ``test_split.npz``). Quality is top-1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

import inkcast
from inkcast.data.quickdraw import QuickDrawOptions, split_records
from inkcast.data.rows import load_rows
from inkcast.runtime.errors import BadInputError, OptionsError
from inkcast.runtime.sketch_preprocess import SketchPreprocessing

from .base import EvalDataError, EvalInputs, Judgement, Reference, TaskSpec

INPUT_NAME = "strokes"
UNKNOWN_VECTORS = 8  # conformance vectors of categories the model does not know
OUTPUT_NAME = "probabilities"
# Export's default output temperature: softmax(logits / 4). Integer variants carry probabilities
# in steps of 1/256, so at T = 1 a confident model's known and unknown drawings tie at the top
# step and the "unknown" ranking (AUROC) loses 0.006-0.013: the 12,000-step default model's int8
# variants failed export's check. From 2 on, the rounded ranking is the float one (validation
# categories); 4 was chosen over 2 on export's check of QAT (docs/RESULTS.md, "I don't know").
# The argmax, and so every label, is unchanged.
OUTPUT_TEMPERATURE = 4.0


def output_temperature(temperature: float | None) -> float:
    """The temperature asked for, or the default; refused unless positive."""
    t = OUTPUT_TEMPERATURE if temperature is None else float(temperature)
    if not t > 0:
        raise OptionsError(f"--temperature divides the logits: it must be positive, got {temperature}")
    return t


@dataclass
class SketchTolerance:
    """How close a float32 file must stay to the Keras model on the test split.

    The fused TFLite LSTM kernel sums in a different order than TF, and over long drawings the
    difference can grow: with input resampled every 16 units we measured a median of 1e-10 and a
    99th percentile of 6e-7, but 1.5e-2 on 1 of 1,998 test drawings (128 rows, an ambiguous
    drawing at p = 0.38), with identical top-1 everywhere. So the typical drawing is held tight
    (p99) and the worst one loosely (max): a conversion bug moves many drawings, float summation
    order moves a few long ones."""

    min_agreement: float = 0.999  # top-1 agreement with Keras ...
    tie_margin: float = 0.01  # ... not counting drawings whose top two Keras scores are within this
    max_probability_difference: float = 5e-2
    p99_probability_difference: float = 1e-4
    # every variant (quantized ones too) against Keras on the test outlier categories: "unknown"
    # must mean the same whichever file runs
    max_auroc_drop: float = 0.01
    max_fpr95_rise: float = 0.02


def topk_accuracy(probs: np.ndarray, y: np.ndarray, k: int) -> float:
    topk = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return float((topk == y[:, None]).any(1).mean())


def compare_classifier(probs: np.ndarray, reference: np.ndarray, y: np.ndarray,
                       tie_margin: float = 0.0) -> dict[str, float]:
    """Top-1/top-3 of a variant, its top-1 agreement with the reference, and how far its
    probabilities are from the reference's: the largest difference, and the 99th percentile of
    each drawing's largest difference.

    ``agreement_beyond_ties`` also counts as agreeing a drawing whose differing top-1 the reference
    itself scores within ``tie_margin`` of its own top-1: a near-tie that any change of summation
    order may flip (seen: 0.37975 vs 0.37985 in Keras, flipped by the fused TFLite LSTM)."""
    per_drawing = np.abs(probs - reference).max(axis=1)
    chosen = probs.argmax(1)
    same = chosen == reference.argmax(1)
    tie = reference[np.arange(len(chosen)), chosen] >= reference.max(1) - tie_margin
    return {
        "top1": topk_accuracy(probs, y, 1),
        "top3": topk_accuracy(probs, y, 3),
        "agreement": float(same.mean()),
        "agreement_beyond_ties": float((same | tie).mean()),
        "tie_margin": tie_margin,
        "max_probability_difference": float(per_drawing.max()),
        "p99_probability_difference": float(np.percentile(per_drawing, 99)),
    }


def rows_to_drawing(rows: np.ndarray, side: int = 255) -> list[list[list[int]]]:
    """A simplified-format drawing (integers 0..side) whose model rows are close to ``rows``.

    A run's ``test_split.npz`` keeps only model rows, not drawings; this rebuilds drawings for
    the public ``predict`` path (points = cumulative offsets, each axis scaled to 0..side, rounded).
    """
    r = np.asarray(rows, dtype=np.float64)
    xy = np.vstack([[0.0, 0.0], np.cumsum(r[:, :2], axis=0)])
    lo, span = xy.min(0), np.ptp(xy, 0)
    span[span == 0] = 1.0
    xy = np.round((xy - lo) / span * side).astype(int)
    ends = set((np.flatnonzero(r[:, 2] == 1) + 1).tolist()) | {len(xy) - 1}
    strokes, start = [], 0
    for i in sorted(ends):
        seg = xy[start : i + 1]
        if len(seg) == 1:  # a one-point stroke: Google's files write dots as two equal points
            seg = np.vstack([seg, seg])
        strokes.append([seg[:, 0].tolist(), seg[:, 1].tolist()])
        start = i + 1
    return strokes


def cap_per_class(y: np.ndarray, cap: int | None) -> np.ndarray:
    """Indices of the first ``cap`` items of each class (all if None), in order."""
    if cap is None:
        return np.arange(len(y))
    keep, seen = [], {}
    for i, c in enumerate(np.asarray(y).tolist()):
        if seen.get(c, 0) < cap:
            keep.append(i)
            seen[c] = seen.get(c, 0) + 1
    return np.asarray(keep, dtype=np.int64)


class SketchSpec(TaskSpec):
    name = "sketch"
    input_name = INPUT_NAME
    output_name = OUTPUT_NAME
    runtime_module = "inkcast.runtime"
    runtime_class = "SketchRecognizer"
    quality_metric = "top1"
    quality_higher_is_better = True
    quality_unit = "points"  # drops are in percentage points of top-1
    variants = ("tflite-float32", "tflite-float16", "tflite-dynamic-int8", "tflite-int8", "tflite-16x8",
                "tflite-qat-int8", "onnx-float32", "onnx-dynamic-int8", "onnx-static-int8")
    # every one: QAT distils the float model on training drawings and on mixes of their strokes, and
    # loses no more than tflite-int8 (default model 0.05 vs 0.15 points, CI model -0.16 vs 0.16;
    # docs/QUANTIZATION.md, "QAT")
    default_variants = variants

    # ------------------------------------------------------------ export side
    def _load(self, run: Path, temperature: float = 1.0):
        from inkcast.training.sketch_model import build_sketch_model
        from inkcast.training.sketch_options import SketchTrainOptions

        for name in ("options.json", "model.weights.h5", "test_split.npz"):
            if not (run / name).is_file():
                raise BadInputError(f"{run / name}: not found; is {run} a run folder made by `inkcast train sketch`?")
        info = json.loads((run / "options.json").read_text(encoding="utf-8"))
        if info.get("task") != "sketch":
            raise BadInputError(f"{run}: a {info.get('task')!r} run, not a sketch run")
        opts = SketchTrainOptions.from_dict(info["options"])
        if opts.outliers and opts.unknown_method != "outlier-exposure":
            raise BadInputError(f"{run}: a {opts.unknown_method} run (one more output than labels) is kept for the "
                                "comparison in docs/RESULTS.md; export takes outlier-exposure runs")
        model = build_sketch_model(len(info["labels"]), opts.model)
        model.load_weights(str(run / "model.weights.h5"))
        if temperature != 1.0:  # softmax(logits / T): the last Dense layer's weights divided by T
            dense = model.get_layer("probabilities")
            dense.set_weights([w / temperature for w in dense.get_weights()])
        return model, list(info["labels"]), opts, info

    def load_model(self, run_dir: str | Path, temperature: float | None = None) -> Any:
        return self._load(Path(run_dir), output_temperature(temperature))[0]

    def load_reference(self, run_dir: str | Path, calibration_samples: int,
                       temperature: float | None = None) -> Reference:
        from inkcast.export.quantize import pick_calibration
        from inkcast.training.train_sketch import classification_metrics

        run = Path(run_dir)
        t = output_temperature(temperature)
        model, labels, opts, info = self._load(run, t)
        rows, y, _ = load_rows(run / "test_split.npz")
        calibration: list[np.ndarray] = []
        fine_tune = None
        if (run / "calibration.npz").is_file():
            cal_rows, cal_y, _ = load_rows(run / "calibration.npz")
            calibration = pick_calibration(cal_rows, cal_y, calibration_samples)
            fine_tune = (cal_rows, cal_y)
        outputs = self.keras_outputs(model, rows)
        return Reference(run_dir=run, model=model, preprocessing=SketchPreprocessing(resample_spacing=opts.resample_spacing),
                         train_options=opts.to_dict(), inputs=rows, targets=np.asarray(y), outputs=outputs,
                         metrics=classification_metrics(outputs, np.asarray(y), labels), calibration=calibration,
                         fine_tune=fine_tune, fine_tune_learning_rate=opts.final_learning_rate, labels=labels,
                         extra={**self._unknown_data(model, run, info), "temperature": t})

    def _unknown_data(self, model: Any, run: Path, info: dict[str, Any]) -> dict[str, Any]:
        """The run's known validation drawings and held-out outlier drawings with Keras's outputs
        (what export chooses the threshold on and judges each variant's "unknown" by)."""
        out: dict[str, Any] = {"method": "outlier-exposure" if info["options"].get("outliers") else "max-softmax"}
        if (run / "validation_split.npz").is_file():
            rows, y, _ = load_rows(run / "validation_split.npz")
            out["validation"] = (rows, np.asarray(y), self.keras_outputs(model, rows))
        for role, names in (info.get("outlier_categories") or {}).items():
            if role != "train" and (run / f"outliers_{role}.npz").is_file():
                rows, idx, _ = load_rows(run / f"outliers_{role}.npz")
                out[f"outliers_{role}"] = (rows, [names[i] for i in idx], self.keras_outputs(model, rows))
        out["outlier_categories"] = dict(info.get("outlier_categories") or {})
        return out

    def choose_unknown_threshold(self, ref: Reference, known_kept: float, threshold: float | None,
                                 log: Any = print) -> None:
        """The threshold on the top-1 probability: ``threshold`` if given, else the one that keeps
        ``known_kept`` of the run's known validation drawings; with the Keras model's figures on
        the validation and test outlier categories. A run from before open-set training has no
        validation split saved: its bundle gets no threshold (and answers as before)."""
        from .unknown import open_set_metrics, scores_of, summary_line, threshold_keeping

        if threshold is not None and not 0 <= threshold <= 1:
            raise BadInputError(f"the unknown threshold is a top-1 probability, 0..1; got {threshold}")
        if not 0 < known_kept <= 1:
            raise BadInputError(f"--known-kept is the share of known validation drawings kept, in (0, 1]; got {known_kept}")
        data = ref.extra
        if "validation" not in data:
            log("no threshold for 'unknown': the run has no validation_split.npz (made before inkcast 0.2); "
                "retrain to get one")
            return
        rows, y, probs = data["validation"]
        known = scores_of(probs)
        chosen = float(threshold) if threshold is not None else threshold_keeping(known, known_kept)
        labels = ref.labels or []
        block: dict[str, Any] = {
            "method": data["method"], "score": "top1_probability", "threshold": chosen,
            "temperature": ref.extra.get("temperature", 1.0),  # the probabilities it applies to: softmax(logits / T)
            "rule": "known when the top-1 probability >= threshold; else the answer is 'unknown'",
            "chosen_by": ("given" if threshold is not None else
                          f"keeps {known_kept:.0%} of the {len(known)} known validation drawings"),
            "known_kept_target": None if threshold is not None else known_kept,
            "validation_known_kept": float((known >= chosen).mean()),
            "outlier_categories": data["outlier_categories"],
        }
        right = probs.argmax(1) == y
        if "outliers_validation" in data:
            _, cats, oprobs = data["outliers_validation"]
            block["validation"] = open_set_metrics(known, right, oprobs, cats, chosen, labels)
        if "outliers_test" in data:
            _, cats, oprobs = data["outliers_test"]
            block["test"] = open_set_metrics(scores_of(ref.outputs), ref.outputs.argmax(1) == ref.targets, oprobs,
                                             cats, chosen, labels)
            log(f"unknown: Keras on the test outlier categories: {summary_line(block['test'])}")
        else:
            log(f"unknown: threshold {chosen:.4f} ({data['method']}; no held-out outlier drawings to measure it on: "
                "train with --outliers DIR, or run inkcast evaluate --unknown DIR)")
        data["manifest"] = block

    def keras_outputs(self, model: Any, inputs: Sequence[np.ndarray]) -> np.ndarray:
        from inkcast.training.train_sketch import predict_rows

        return predict_rows(model, inputs)

    def tflite_shape(self, ref: Reference) -> tuple[int | None, ...]:
        return (1, None, 3)

    def onnx_shape(self, ref: Reference) -> tuple[int | None, ...]:
        return (None, None, 3)

    def onnx_metadata(self, ref: Reference) -> dict[str, str]:
        return {"labels": json.dumps(ref.labels), "preprocessing": json.dumps(ref.preprocessing.to_dict()),
                "task": self.name, "producer": f"inkcast {inkcast.__version__}"}

    model_title = "inkcast sketch recognizer"
    data_license = "trained on Google's Quick, Draw! dataset: CC BY 4.0"

    def model_description(self, ref: Reference) -> str:
        text = (f"Recognizes a drawing among {len(ref.labels or [])} Quick, Draw! categories from its pen strokes. "
                "The input is the drawing after the inkcast preprocessing contract (docs/CONTRACT.md; test "
                "vectors in the bundle's conformance.json) with these parameters: "
                + json.dumps(ref.preprocessing.to_dict(), sort_keys=True) + ".")
        u = ref.extra.get("manifest")
        if u:
            text += (f" Unknown drawings: answer 'unknown' when the top-1 probability is below {u['threshold']:.6f} "
                     f"({u['method']}; {u['chosen_by']})")
            if "test" in u:
                t = u["test"]
                text += (f"; on {t['unknown_categories']} categories never used in training: AUROC {t['auroc']:.3f}, "
                         f"{100 * t['unknown_accepted']:.1f} % of unknown drawings accepted, "
                         f"{100 * t['known_kept']:.1f} % of known test drawings kept")
            text += "."
        return text

    def run_file(self, model: Any, ref: Reference) -> np.ndarray:
        """The file's outputs on the test split, then on the test outlier drawings (if the run
        has them): ``judge`` splits them at ``len(ref.inputs)``."""
        from inkcast.runtime.backends import run_by_length

        outliers = ref.extra.get("outliers_test")
        return run_by_length(model, list(ref.inputs) + (list(outliers[0]) if outliers else []))

    def default_tolerance(self) -> SketchTolerance:
        return SketchTolerance()

    def judge(self, outputs: np.ndarray, ref: Reference, dtype: str, tolerance: SketchTolerance,
              max_drop: float) -> Judgement:
        t = tolerance
        outputs, unknown_outputs = outputs[: len(ref.inputs)], outputs[len(ref.inputs):]
        m = compare_classifier(outputs, ref.outputs, ref.targets, t.tie_margin)
        m["drop_points"] = round(100 * (ref.metrics["top1"] - m["top1"]), 3)
        problem = None
        u = ref.extra.get("manifest")
        if u and "test" in u:  # the same threshold: is "unknown" as good in this file as in Keras?
            from .unknown import open_set_metrics, scores_of

            _, cats, _ = ref.extra["outliers_test"]
            k = open_set_metrics(scores_of(outputs), outputs.argmax(1) == ref.targets, unknown_outputs, cats,
                                 u["threshold"], ref.labels or [])
            m["unknown"] = {key: k[key] for key in ("threshold", "auroc", "fpr95", "known_kept", "unknown_accepted",
                                                    "known_top1_at_threshold")}
            if k["auroc"] < u["test"]["auroc"] - t.max_auroc_drop or k["fpr95"] > u["test"]["fpr95"] + t.max_fpr95_rise:
                problem = (f"unknown drawings: AUROC {k['auroc']:.4f} vs Keras {u['test']['auroc']:.4f} (limit "
                           f"-{t.max_auroc_drop}), FPR95 {100 * k['fpr95']:.1f} % vs {100 * u['test']['fpr95']:.1f} % "
                           f"(limit +{100 * t.max_fpr95_rise:.0f} points)")
        if dtype == "float32":
            if (m["agreement_beyond_ties"] < t.min_agreement or m["max_probability_difference"] > t.max_probability_difference
                    or m["p99_probability_difference"] > t.p99_probability_difference):
                problem = (f"top-1 agreement {m['agreement']:.4f}, {m['agreement_beyond_ties']:.4f} not counting "
                           f"Keras near-ties within {t.tie_margin} (need >= {t.min_agreement}), probability "
                           f"difference max {m['max_probability_difference']:.2e} (limit "
                           f"{t.max_probability_difference}), 99th percentile "
                           f"{m['p99_probability_difference']:.2e} (limit {t.p99_probability_difference})")
        elif m["drop_points"] > max_drop:
            problem = f"top-1 drop {m['drop_points']:.2f} points against Keras float32 (limit --max-drop {max_drop})"
        summary = f"top-1 {m['top1']:.4f}  drop {m['drop_points']:+.2f}  agreement {m['agreement']:.4f}"
        if "unknown" in m:
            summary += f"  unknown AUROC {m['unknown']['auroc']:.4f} FPR95 {100 * m['unknown']['fpr95']:.1f} %"
        return Judgement(m, problem, summary)

    def manifest_fields(self, ref: Reference) -> dict[str, Any]:
        labels = ref.labels or []
        return {
            "task": self.name,
            "labels": labels,
            "preprocessing": ref.preprocessing.to_dict(),
            "input": {"name": INPUT_NAME, "shape": ["batch", "time", 3], "dtype": "float32",
                      "description": "rows of (dx, dy, end_of_stroke), left-padded with zero rows; "
                                     "TFLite files take batch 1 at any time length"},
            "output": {"name": OUTPUT_NAME, "shape": ["batch", len(labels)], "dtype": "float32",
                       "description": "class probabilities in the order of labels",
                       "temperature": ref.extra.get("temperature", 1.0)},
            "reference": {"model": "keras float32", "split": "test", "drawings": len(ref.inputs),
                          "top1": ref.metrics["top1"], "top3": ref.metrics["top3"]},
            "training": {"run_dir": str(ref.run_dir), "options": ref.train_options},
            **({"unknown": ref.extra["manifest"]} if ref.extra.get("manifest") else {}),
        }

    def extra_files(self, ref: Reference) -> dict[str, str]:
        return {"labels.txt": "\n".join(ref.labels or []) + "\n"}

    def conformance(self, ref: Reference, models: dict[str, Any]) -> str | None:
        from inkcast.export.conformance import SIMPLIFIED_VECTORS, build_conformance

        picks = np.linspace(0, len(ref.inputs) - 1, SIMPLIFIED_VECTORS).round().astype(int)
        drawings = [rows_to_drawing(ref.inputs[i]) for i in picks]
        u = ref.extra.get("manifest")
        unknown = []
        if u and "outliers_test" in ref.extra:
            # test outlier drawings spread over Keras's scores, lowest first (mostly rejected, some
            # accepted), leaving out any within 1e-3 of the threshold, where a port's last-bit
            # differences could fairly flip the answer
            rows, _, probs = ref.extra["outliers_test"]
            scores = probs.max(1)
            clear = np.flatnonzero(np.abs(scores - u["threshold"]) > 1e-3)
            order = clear[np.argsort(scores[clear], kind="stable")]
            if len(order):
                at = np.linspace(0, len(order) - 1, min(UNKNOWN_VECTORS, len(order))).round().astype(int)
                unknown = [rows_to_drawing(rows[i]) for i in order[at]]
        doc = build_conformance(drawings, ref.labels or [], ref.preprocessing, models, unknown_drawings=unknown,
                                threshold=u["threshold"] if u else None)
        return json.dumps(doc, separators=(",", ":")) + "\n"

    # ------------------------------------------------------------ runtime side
    def open_runtime(self, bundle_dir: str | Path, variant: str, num_threads: int | None = None):
        from inkcast.runtime import SketchRecognizer

        return SketchRecognizer(bundle_dir, variant=variant, num_threads=num_threads)

    def load_inputs(self, bundle: Any, data: str | Path | None, per_category: int | None) -> EvalInputs:
        if data is not None:
            return self._from_folder(bundle, Path(data), per_category)
        return self._from_run(bundle, per_category)

    def _from_folder(self, bundle: Any, folder: Path, per_category: int | None) -> EvalInputs:
        m = bundle.manifest
        labels = list(m["labels"])
        data_opts = (m.get("training") or {}).get("options", {}).get("data", {})
        options = QuickDrawOptions(recognized_only=bool(data_opts.get("recognized_only", False)),
                                   split_fractions=tuple(data_opts.get("split_fractions") or (0.8, 0.1, 0.1)))
        prep = SketchPreprocessing.from_dict(m["preprocessing"])
        if not folder.is_dir():
            raise EvalDataError(f"{folder}: no such data folder (give --data a folder of <category>.ndjson files)")
        missing = [c for c in labels if not (folder / f"{c}.ndjson").is_file()]
        if missing:
            raise EvalDataError(f"{folder}: no <category>.ndjson for the bundle's labels {missing}")
        rows, public, y, skipped = [], [], [], 0
        for rec in split_records(folder, "test", labels, per_category, options):
            try:
                rows.append(prep.features_of(rec["drawing"]))
            except BadInputError:
                skipped += 1
                continue
            public.append(rec["drawing"])
            y.append(rec["label"])
        if not rows:
            raise EvalDataError(f"{folder}: no test-split drawings for the bundle's labels")
        notes = [f"{skipped} test drawings skipped (not recognizable input)"] if skipped else []
        cap = f", first {per_category} per category" if per_category else ""
        return EvalInputs(rows, public, np.asarray(y, np.int64), f"{folder} (test split by key_id hash{cap})", notes)

    def _from_run(self, bundle: Any, per_category: int | None) -> EvalInputs:
        run_dir = (bundle.manifest.get("training") or {}).get("run_dir")
        split = Path(run_dir) / "test_split.npz" if run_dir else None
        if split is None or not split.is_file():
            where = f"{split}" if split else "the manifest has no training.run_dir"
            raise EvalDataError(
                f"no test inputs: --data was not given and the run's test split is not available ({where}). "
                "Pass --data DIR, a folder of <category>.ndjson files (Google's simplified Quick, Draw! format)")
        rows, y, _ = load_rows(split)
        keep = cap_per_class(np.asarray(y), per_category)
        rows = [rows[i] for i in keep]
        cap = f", first {per_category} per category" if per_category else ""
        return EvalInputs(rows, [rows_to_drawing(r) for r in rows], np.asarray(y)[keep], f"{split}{cap}",
                          ["predict() inputs are drawings rebuilt from the stored model rows "
                           "(integer 0..255 coordinates); the bare model call and accuracy use the rows as stored"])

    def load_unknown(self, bundle: Any, folder: str | Path) -> tuple[list[np.ndarray], list[str], list[str]]:
        """(model rows, category of each, notes): the drawings of ``folder``'s categories that are
        not the bundle's labels, less those its training used as outliers or to choose the threshold
        (their figures would flatter the model)."""
        from inkcast.data.outliers import load_outliers

        m = bundle.manifest
        used = {c for role in ("train", "validation")
                for c in ((m.get("unknown") or {}).get("outlier_categories") or {}).get(role, [])}
        prep = SketchPreprocessing.from_dict(m["preprocessing"])
        o = load_outliers([folder], list(m["labels"]) + sorted(used), spacing=prep.resample_spacing,
                          max_points=prep.max_points, require_every_role=False)
        rows, cats = [], []
        for role in ("train", "validation", "test"):
            rows += o[role].features
            cats += o[role].categories
        notes = [f"{len(used)} categories of the folder left out: the bundle's training used them"] if used else []
        return rows, cats, notes

    def unknown_quality(self, bundle: Any, rt: Any, known_outputs: np.ndarray, inputs: EvalInputs,
                        unknown: tuple[list[np.ndarray], list[str], list[str]]) -> dict[str, Any]:
        """The open-set figures of one opened variant at the bundle's threshold (a bundle without
        one: at 0, where every drawing is accepted; AUROC and FPR95 need no threshold)."""
        from .unknown import open_set_metrics, scores_of

        rows, cats, notes = unknown
        u = bundle.manifest.get("unknown") or {}
        m = open_set_metrics(scores_of(known_outputs), known_outputs.argmax(1) == inputs.targets,
                             rt.probabilities_of_features(rows), cats, float(u.get("threshold") or 0.0),
                             list(bundle.manifest["labels"]))
        return {**m, "notes": notes + ([] if u else ["the bundle has no threshold: every drawing is accepted"])}

    def subset(self, inputs: EvalInputs, per_category: int | None) -> EvalInputs:
        """The first ``per_category`` items of each category (all if None)."""
        if per_category is None:
            return inputs
        return inputs.take(cap_per_class(inputs.targets, per_category),
                           f"{inputs.source}, first {per_category} per category")

    def outputs(self, rt: Any, inputs: EvalInputs) -> np.ndarray:
        return rt.probabilities_of_features(inputs.rows)

    def quality(self, outputs: np.ndarray, inputs: EvalInputs, reference: np.ndarray | None) -> dict[str, Any]:
        y = inputs.targets
        q = {"metric": "top1", "top1": topk_accuracy(outputs, y, 1), "top3": topk_accuracy(outputs, y, 3),
             "items": int(len(y))}
        q["value"] = q["top1"]
        if reference is not None:
            ref_top1 = float((reference.argmax(1) == y).mean())
            q["reference_value"] = ref_top1
            q["drop_points"] = round(100.0 * (ref_top1 - q["top1"]), 4)
            q["agreement"] = float((reference.argmax(1) == outputs.argmax(1)).mean())
            q["max_abs_difference"] = float(np.abs(reference - outputs).max())
        return q

    def evaluation_table(self, results: dict[str, dict[str, Any]]) -> str:
        unknown = any("unknown" in r for r in results.values())
        head = f"{'variant':20s} {'backend':8s} {'top-1':>7s} {'top-3':>7s} {'drawings':>9s}"
        if unknown:
            head += f" {'AUROC':>7s} {'FPR95':>7s} {'thresh':>7s} {'kept':>7s} {'unk.acc':>7s} {'unknown':>8s}"
        lines = [head]
        for name, r in results.items():
            line = f"{name:20s} {r['backend']:8s} {r['top1']:7.4f} {r['top3']:7.4f} {r['items']:9d}"
            u = r.get("unknown")
            if u:
                line += (f" {u['auroc']:7.4f} {u['fpr95']:7.4f} {u['threshold']:7.4f} {u['known_kept']:7.4f} "
                         f"{u['unknown_accepted']:7.4f} {u['unknown_drawings']:8d}")
            lines.append(line)
        if unknown:
            u = next(r["unknown"] for r in results.values() if "unknown" in r)
            lines.append(f"unknown: {u['unknown_drawings']} drawings of {u['unknown_categories']} categories; "
                         "kept = known drawings kept, unk.acc = unknown drawings accepted, at the bundle's threshold")
            most = ", ".join(f"{m['category']} {m['accepted']}/{m['drawings']}" for m in u["unknown_accepted_most"])
            lines.append(f"accepted most often ({next(n for n, r in results.items() if 'unknown' in r)}): {most or 'none'}")
        return "\n".join(lines)

    def item_json(self, item: Any) -> str:
        return json.dumps(item)

