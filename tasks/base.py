"""What a task spec is: everything export, evaluate, bench and predict need to know about a task.

In the spirit of Optimum's ``OnnxConfig``: a spec says what the model takes and gives (tensor
names and shapes), how the run's reference is rebuilt and its test data read, how a converted
file's outputs are judged against the reference, and what the manifest records. The export
pipeline (``inkcast.export.pipeline``), ``inkcast evaluate``, ``inkcast bench`` and the CLI are
written once against this interface; a new task is one new spec in ``inkcast.tasks``.

TensorFlow is imported only by the methods that rebuild the Keras model (``load_model``,
``load_reference``), so the runtime-side methods work in a runtime-only install.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from inkcast.runtime.errors import BadInputError


class EvalDataError(BadInputError):
    """There are no test inputs to run on (no --data, and the run's own test split is gone)."""


@dataclass
class EvalInputs:
    """Real test inputs in three views of the same items."""

    rows: list[np.ndarray]  # model input per item, (length, features) float32
    public: list[Any]  # the same item as the public API takes it (a drawing, a series window)
    targets: np.ndarray  # labels (sketch) or true values (forecast)
    source: str  # where they came from, for reports
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(r) for r in self.rows], dtype=np.int64)

    def take(self, keep: Sequence[int], source: str) -> "EvalInputs":
        """The items at ``keep``, with a new description."""
        return EvalInputs([self.rows[i] for i in keep], [self.public[i] for i in keep],
                          self.targets[np.asarray(keep, dtype=np.int64)], source, list(self.notes))


@dataclass
class Reference:
    """A run's Keras model and what every exported file is checked against."""

    run_dir: Path
    model: Any  # the rebuilt Keras model
    preprocessing: Any  # the run's preprocessing contract (a dataclass with to_dict)
    train_options: dict[str, Any]
    inputs: list[np.ndarray]  # the test split's model inputs, one (length, F) array each
    targets: np.ndarray
    outputs: np.ndarray  # the Keras model's outputs on ``inputs``
    metrics: dict[str, Any]  # the reference's quality on the test split
    calibration: list[np.ndarray]  # training inputs for integer calibration (never test)
    fine_tune: tuple[list[np.ndarray], np.ndarray] | None = None  # (rows, targets) for QAT; None: no QAT
    fine_tune_learning_rate: float = 4e-5  # QAT's: the run's last learning rate
    labels: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # task-specific reference data


@dataclass
class Judgement:
    """A converted file's figures against the reference, and the reason it fails (None: it passes)."""

    accuracy: dict[str, Any]
    problem: str | None
    summary: str  # one line for the export log
    extra: dict[str, Any] = field(default_factory=dict)  # more manifest fields of the variant


class TaskSpec:
    """The interface; see the module doc. Subclasses: ``SketchSpec``, ``ForecastSpec``."""

    name = ""
    input_name = ""
    output_name = ""
    runtime_module = ""  # where the public runtime object lives
    runtime_class = ""  # its class name
    quality_metric = ""
    quality_higher_is_better = True
    quality_unit = ""
    variants: tuple[str, ...] = ()  # the export variants this task supports
    default_variants: tuple[str, ...] = ()  # exported when no formats are named

    # ---- export side (TensorFlow)
    def load_model(self, run_dir: str | Path, temperature: float | None = None) -> Any:
        """The run's Keras model as export converts it (``temperature``: as in ``load_reference``)."""
        raise NotImplementedError

    def load_reference(self, run_dir: str | Path, calibration_samples: int,
                       temperature: float | None = None) -> Reference:
        """The run's model and test data; ``temperature``: a classifier's output temperature
        (None: the task's default; a task without one refuses any other value)."""
        raise NotImplementedError

    def keras_outputs(self, model: Any, inputs: Sequence[np.ndarray]) -> np.ndarray:
        """The Keras model's outputs on model inputs, in order."""
        raise NotImplementedError

    def choose_unknown_threshold(self, ref: Reference, known_kept: float, threshold: float | None,
                                 log: Any = print) -> None:
        """A classifier that can answer "unknown" chooses its threshold here (recorded in
        ``ref.extra``); other tasks have none."""

    def tflite_shape(self, ref: Reference) -> tuple[int | None, ...]:
        raise NotImplementedError

    def onnx_shape(self, ref: Reference) -> tuple[int | None, ...]:
        raise NotImplementedError

    def onnx_metadata(self, ref: Reference) -> dict[str, str]:
        raise NotImplementedError

    model_title = ""  # the TFLite metadata's model name
    data_license = ""  # the training data's terms, for the TFLite metadata's license field

    def model_description(self, ref: Reference) -> str:
        """One paragraph for the TFLite metadata: what the model does and where its input contract is."""
        raise NotImplementedError

    def tflite_metadata(self, ref: Reference) -> Any:
        """What the ``.tflite`` variants carry (``export.tflite_metadata``): the manifest's tensor
        descriptions, the preprocessing, and a classifier's labels."""
        import inkcast
        from inkcast.export.tflite_metadata import TfliteMetadata

        f = self.manifest_fields(ref)
        return TfliteMetadata(
            name=self.model_title, description=self.model_description(ref), version=inkcast.__version__,
            author="inkcast", license="; ".join(x for x in ("inkcast: Apache-2.0", self.data_license) if x),
            input_name=f["input"]["name"], input_description=f["input"]["description"],
            output_name=f["output"]["name"], output_description=f["output"]["description"], labels=ref.labels)

    def run_file(self, model: Any, ref: Reference) -> np.ndarray:
        """Outputs of an opened model file (``runtime.backends.open_model``) on the test inputs."""
        raise NotImplementedError

    def judge(self, outputs: np.ndarray, ref: Reference, dtype: str, tolerance: Any, max_drop: float) -> Judgement:
        raise NotImplementedError

    def default_tolerance(self) -> Any:
        raise NotImplementedError

    def manifest_fields(self, ref: Reference) -> dict[str, Any]:
        raise NotImplementedError

    def extra_files(self, ref: Reference) -> dict[str, str]:
        return {}

    def conformance(self, ref: Reference, models: dict[str, Any]) -> str | None:
        """``conformance.json`` text for porters (test vectors with each opened variant's
        answers), or None when the task has none."""
        return None

    def validation_fields(self, ref: Reference) -> dict[str, Any]:
        return {}

    # ---- runtime side (NumPy + a backend)
    def open_runtime(self, bundle_dir: str | Path, variant: str, num_threads: int | None = None) -> Any:
        raise NotImplementedError

    def load_inputs(self, bundle: Any, data: str | Path | None, per_category: int | None) -> EvalInputs:
        raise NotImplementedError

    def subset(self, inputs: EvalInputs, per_category: int | None) -> EvalInputs:
        raise NotImplementedError

    def load_unknown(self, bundle: Any, folder: str | Path) -> tuple[list[np.ndarray], list[str], list[str]]:
        """A classifier's "unknown" inputs: (model rows, category of each, notes)."""
        raise EvalDataError(f"a {self.name} bundle has no 'unknown' answer to evaluate")

    def unknown_quality(self, bundle: Any, rt: Any, known_outputs: np.ndarray, inputs: EvalInputs,
                        unknown: tuple[list[np.ndarray], list[str], list[str]]) -> dict[str, Any]:
        """A classifier's open-set figures (``tasks/unknown.py``)."""
        raise NotImplementedError

    def predict(self, rt: Any, item: Any) -> Any:
        return rt.predict(item)

    def predict_batch(self, rt: Any, items: Sequence[Any]) -> Any:
        return rt.predict_batch(items)

    def outputs(self, rt: Any, inputs: EvalInputs) -> np.ndarray:
        raise NotImplementedError

    def from_model_outputs(self, bundle: Any, raw: np.ndarray, inputs: EvalInputs) -> np.ndarray:
        return raw

    def quality(self, outputs: np.ndarray, inputs: EvalInputs, reference: np.ndarray | None) -> dict[str, Any]:
        raise NotImplementedError

    def baselines(self, inputs: EvalInputs) -> dict[str, np.ndarray]:
        """Outputs of simple non-learned methods on the same inputs, for ``evaluate`` (none by default)."""
        return {}

    def evaluation_table(self, results: dict[str, dict[str, Any]]) -> str:
        raise NotImplementedError

    def coldstart_code(self) -> tuple[str, str]:
        """(load, first prediction) lines of a cold-start process; they see BUNDLE, VARIANT,
        THREADS and ITEM (``benchmarks.coldstart``)."""
        return (f"from {self.runtime_module} import {self.runtime_class}\n"
                f"rt = {self.runtime_class}(BUNDLE, format=VARIANT, num_threads=THREADS)",
                "rt.predict(ITEM)")

    def item_json(self, item: Any) -> str:
        raise NotImplementedError
