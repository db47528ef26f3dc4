"""What the benchmark needs to know about a bundle's task: its inputs, its public API, its quality.

The measuring code (``latency``, ``coldstart``, ``keras_ref``, ``report``, ``gate``) is task-agnostic;
everything task-specific sits behind one small adapter class per ``manifest["task"]``:

* ``load_inputs``   -- real test inputs: model rows (for the bare model call and for quality),
                       the same items as the public API takes them (for ``predict``), and targets;
* ``open_runtime``  -- the runtime's public object for one variant and thread count;
* ``predict`` / ``predict_batch`` -- the timed public path (preprocessing included);
* ``quality``       -- the task's accuracy figure and its drop against a reference's outputs;
* ``coldstart_code``-- the lines a fresh process runs to load the runtime and predict once.

``sketch`` (``SketchRecognizer``; top-1) and ``forecast`` (``Forecaster``; MAE) are implemented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from inkcast.runtime.bundle import Bundle
from inkcast.runtime.errors import BadInputError, InkcastError  # noqa: F401


class BenchDataError(InkcastError):
    """The benchmark has no test inputs to run on (no --data and no usable run test split)."""


@dataclass
class BenchInputs:
    """Real test inputs, in three views of the same items."""

    rows: list[np.ndarray]  # model input per item, (length, features) float32
    public: list[Any]  # the same item as the public API takes it (a drawing, a series window)
    targets: np.ndarray  # labels (sketch) or true values (forecast)
    source: str  # where they came from, for the report
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(r) for r in self.rows], dtype=np.int64)


def rows_to_drawing(rows: np.ndarray, side: int = 255) -> list[list[list[int]]]:
    """A simplified-format drawing (integers 0..side) whose model rows are close to ``rows``.

    The run's ``test_split.npz`` keeps only model rows, not drawings; this rebuilds drawings for
    the public ``predict`` path (points = cumulative offsets, each axis scaled to 0..side, rounded).
    The rows it gives back differ from the stored ones only by that rounding.
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


class SketchTask:
    """The sketch recognizer: items are drawings; quality is top-1 (higher is better)."""

    name = "sketch"
    quality_metric = "top1"
    quality_higher_is_better = True
    quality_unit = "points"  # drops are in percentage points of top-1
    runtime_class = "SketchRecognizer"

    # ---- inputs
    def load_inputs(self, bundle: Bundle, data: str | Path | None, per_category: int | None) -> BenchInputs:
        if data is not None:
            return self._from_folder(bundle, Path(data), per_category)
        return self._from_run(bundle, per_category)

    def _from_folder(self, bundle: Bundle, folder: Path, per_category: int | None) -> BenchInputs:
        from inkcast.runtime.simplify import prepare_drawing
        from inkcast.runtime.sketch_preprocess import SketchPreprocessing
        from inkcast.training.quickdraw import iter_drawings, split_of

        m = bundle.manifest
        labels = list(m["labels"])
        data_opts = (m.get("training") or {}).get("options", {}).get("data", {})
        fractions = tuple(data_opts.get("split_fractions") or (0.8, 0.1, 0.1))
        recognized_only = bool(data_opts.get("recognized_only", False))
        prep = SketchPreprocessing.from_dict(m["preprocessing"])
        if not folder.is_dir():
            raise BenchDataError(f"{folder}: no such data folder (give --data a folder of <category>.ndjson files)")
        missing = [c for c in labels if not (folder / f"{c}.ndjson").is_file()]
        if missing:
            raise BenchDataError(f"{folder}: no <category>.ndjson for the bundle's labels {missing}")
        rows, public, y, skipped = [], [], [], 0
        for label, cat in enumerate(labels):
            n = 0
            for _, rec in iter_drawings(folder / f"{cat}.ndjson", recognized_only):
                if per_category is not None and n >= per_category:
                    break
                if split_of(rec["key_id"], fractions) != "test":
                    continue
                try:
                    feats = prep.features_of(prepare_drawing(rec["drawing"]))
                except BadInputError:
                    skipped += 1
                    continue
                rows.append(feats)
                public.append(rec["drawing"])
                y.append(label)
                n += 1
        if not rows:
            raise BenchDataError(f"{folder}: no test-split drawings for the bundle's labels")
        notes = [f"{skipped} test drawings skipped (not recognizable input)"] if skipped else []
        cap = f", first {per_category} per category" if per_category else ""
        return BenchInputs(rows, public, np.asarray(y, np.int64),
                           f"{folder} (test split by key_id hash{cap})", notes)

    def _from_run(self, bundle: Bundle, per_category: int | None) -> BenchInputs:
        from inkcast.training.quickdraw import load_rows

        run_dir = (bundle.manifest.get("training") or {}).get("run_dir")
        split = Path(run_dir) / "test_split.npz" if run_dir else None
        if split is None or not split.is_file():
            where = f"{split}" if split else "the manifest has no training.run_dir"
            raise BenchDataError(
                f"no test inputs: --data was not given and the run's test split is not available ({where}). "
                "Pass --data DIR, a folder of <category>.ndjson files (Google's simplified Quick, Draw! format)")
        rows, y, _ = load_rows(split)
        keep = _cap_per_class(np.asarray(y), per_category)
        rows = [rows[i] for i in keep]
        y = np.asarray(y)[keep]
        public = [rows_to_drawing(r) for r in rows]
        cap = f", first {per_category} per category" if per_category else ""
        return BenchInputs(rows, public, y, f"{split}{cap}",
                           ["predict() inputs are drawings rebuilt from the stored model rows "
                            "(integer 0..255 coordinates); the bare model call and accuracy use the rows as stored"])

    def subset(self, inputs: BenchInputs, per_category: int | None) -> BenchInputs:
        """The first ``per_category`` items of each category (all if None)."""
        if per_category is None:
            return inputs
        keep = _cap_per_class(inputs.targets, per_category)
        return BenchInputs([inputs.rows[i] for i in keep], [inputs.public[i] for i in keep], inputs.targets[keep],
                           f"{inputs.source}, first {per_category} per category", list(inputs.notes))

    # ---- the public runtime
    def open_runtime(self, bundle_dir: Path, variant: str, num_threads: int):
        from inkcast.runtime import SketchRecognizer

        return SketchRecognizer(bundle_dir, format=variant, num_threads=num_threads)

    def predict(self, rt, item: Any):
        return rt.predict(item)

    def predict_batch(self, rt, items: Sequence[Any]):
        return rt.predict_batch(items)

    def outputs(self, rt, inputs: BenchInputs) -> np.ndarray:
        """Model outputs for every test item through the runtime (probabilities)."""
        return rt.probabilities_of_features(inputs.rows)

    def from_model_outputs(self, bundle: Bundle, raw: np.ndarray, inputs: BenchInputs) -> np.ndarray:
        """Keras outputs as the runtime gives them (probabilities either way)."""
        return raw

    # ---- quality
    def quality(self, outputs: np.ndarray, inputs: BenchInputs, reference: np.ndarray | None) -> dict:
        y = inputs.targets
        top3 = np.argsort(-outputs, axis=1, kind="stable")[:, :3]
        q = {"metric": "top1", "top1": float((top3[:, 0] == y).mean()),
             "top3": float((top3 == y[:, None]).any(1).mean()), "items": int(len(y))}
        if reference is not None:
            ref_top1 = float((reference.argmax(1) == y).mean())
            q["value"] = q["top1"]
            q["reference_value"] = ref_top1
            q["drop_points"] = round(100.0 * (ref_top1 - q["top1"]), 4)
            q["agreement"] = float((reference.argmax(1) == outputs.argmax(1)).mean())
            q["max_abs_difference"] = float(np.abs(reference - outputs).max())
        return q

    # ---- cold start
    def coldstart_code(self) -> tuple[str, str]:
        """(load, first prediction) lines; they see BUNDLE, VARIANT, THREADS and ITEM."""
        return ("from inkcast.runtime import SketchRecognizer\n"
                "rt = SketchRecognizer(BUNDLE, format=VARIANT, num_threads=THREADS)",
                "rt.predict(ITEM)")

    def item_json(self, item: Any) -> str:
        return json.dumps(item)


class ForecastTask:
    """The 7-day forecaster (manifest ``task: "forecast"``, runtime ``Forecaster``).

    Items are windows of the last ``window`` daily values (the public ``predict`` input); the
    model input is the (window, channels) features of ``forecast_preprocess``, the same length for
    every item. Quality is the
    MAE in the series' units over the test windows (lower is better), and ``drop_points`` is the
    MAE *increase* over the reference variant, which the gate compares directly.
    """

    name = "forecast"
    quality_metric = "mae"
    quality_higher_is_better = False
    quality_unit = "series units"
    runtime_class = "Forecaster"

    def load_inputs(self, bundle: Bundle, data: str | Path | None, per_category: int | None) -> BenchInputs:
        from inkcast.runtime.forecast_preprocess import ForecastPreprocessing, make_input

        prep = ForecastPreprocessing.from_dict(bundle.manifest["preprocessing"])
        if data is not None:
            public, y, source = self._from_csv(bundle, prep, Path(data))
            notes: list[str] = []
        else:
            run_dir = (bundle.manifest.get("training") or {}).get("run_dir")
            path = Path(run_dir) / "test_windows.npz" if run_dir else None
            if path is None or not path.is_file():
                raise BenchDataError(
                    f"no test inputs: --data was not given and the run's test windows are not available "
                    f"({path or 'the manifest has no training.run_dir'}). Pass --data FILE.csv (the daily series)")
            with np.load(path) as z:
                if "windows" not in z.files:
                    raise BenchDataError(f"{path} is from an older inkcast (no 'windows'); pass --data FILE.csv")
                x, y = z["windows"], z["y"].astype(np.float64)
            public = [prep.scaling.invert(w) for w in x]  # the runtime's input is the unscaled window
            source, notes = str(path), ["predict() inputs are the stored test windows, unscaled"]
        if per_category is not None:
            public, y = public[:per_category], y[:per_category]
        rows = [make_input(v, prep).x[0] for v in public]
        return BenchInputs(rows, public, np.asarray(y, np.float64), source, notes)

    def subset(self, inputs: BenchInputs, per_category: int | None) -> BenchInputs:
        """The forecaster has no categories: the first ``5 * per_category`` windows (all if None)."""
        if per_category is None:
            return inputs
        n = 5 * per_category
        return BenchInputs(inputs.rows[:n], inputs.public[:n], inputs.targets[:n],
                           f"{inputs.source}, first {min(n, len(inputs))} windows", list(inputs.notes))

    def _from_csv(self, bundle: Bundle, prep, path: Path):
        from inkcast.runtime.errors import BadInputError
        from inkcast.runtime.forecaster import test_period_windows

        opts = (bundle.manifest.get("training") or {}).get("options", {})
        try:
            s, origins, y = test_period_windows(bundle.manifest, path)
        except BadInputError as e:
            if "not the test period" not in str(e):
                raise
            raise BenchDataError(str(e)) from None
        public = [np.asarray(s.values[t - prep.window + 1 : t + 1], dtype=np.float64) for t in origins]
        return public, y, f"{path} (test period {opts['test_start']}..{opts['test_end']})"

    def open_runtime(self, bundle_dir: Path, variant: str, num_threads: int):
        from inkcast.runtime.forecaster import Forecaster

        return Forecaster(bundle_dir, format=variant, num_threads=num_threads)

    def predict(self, rt, item: Any):
        return rt.predict(item)

    def predict_batch(self, rt, items: Sequence[Any]):
        return rt.predict_batch(items)

    def outputs(self, rt, inputs: BenchInputs) -> np.ndarray:
        return rt.predict_batch(inputs.public)

    def from_model_outputs(self, bundle: Bundle, raw: np.ndarray, inputs: BenchInputs) -> np.ndarray:
        """Keras outputs are the network's (``finish`` makes forecasts); the runtime's are in the series' units."""
        from inkcast.runtime.forecast_preprocess import ForecastPreprocessing, ModelInput, finish, make_input

        prep = ForecastPreprocessing.from_dict(bundle.manifest["preprocessing"])
        inp = ModelInput.concat([make_input(v, prep) for v in inputs.public])
        return prep.scaling.invert(finish(raw, inp))

    def quality(self, outputs: np.ndarray, inputs: BenchInputs, reference: np.ndarray | None) -> dict:
        y = inputs.targets
        mae = float(np.abs(outputs - y).mean())
        q = {"metric": "mae", "mae": mae, "value": mae, "items": int(len(y)),
             "per_horizon_mae": np.abs(outputs - y).mean(0).tolist()}
        if reference is not None:
            ref = float(np.abs(reference - y).mean())
            q["reference_value"] = ref
            q["drop_points"] = mae - ref  # the MAE increase, in the series' units
            q["max_abs_difference"] = float(np.abs(reference - outputs).max())
        return q

    def coldstart_code(self) -> tuple[str, str]:
        return ("from inkcast.runtime.forecaster import Forecaster\n"
                "rt = Forecaster(BUNDLE, format=VARIANT, num_threads=THREADS)",
                "rt.predict(ITEM)")

    def item_json(self, item: Any) -> str:
        return json.dumps([float(v) for v in item])


TASKS = {"sketch": SketchTask, "forecast": ForecastTask}


def task_for(bundle: Bundle):
    if bundle.task not in TASKS:
        raise BenchDataError(f"{bundle.root}: no benchmark for task {bundle.task!r}")
    return TASKS[bundle.task]()


def _cap_per_class(y: np.ndarray, cap: int | None) -> np.ndarray:
    if cap is None:
        return np.arange(len(y))
    keep, seen = [], {}
    for i, c in enumerate(y.tolist()):
        if seen.get(c, 0) < cap:
            keep.append(i)
            seen[c] = seen.get(c, 0) + 1
    return np.asarray(keep, dtype=np.int64)
