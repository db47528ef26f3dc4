"""SketchRecognizer: a bundle's sketch model behind ``predict(drawing) -> [(label, p), ...]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .backends import run_by_length
from .bundle_model import BundleModel
from .errors import BadInputError, BundleError
from .ranking import Prediction, Recognition, check_top_k, rank, recognition
from .sketch_input import model_rows
from .sketch_preprocess import SketchPreprocessing, pad_left


class SketchRecognizer(BundleModel):
    """Recognize Quick, Draw!-style drawings with one variant of an exported bundle.

    Opening the bundle (``backend``, ``format``, checksums) is :class:`BundleModel`'s. No
    TensorFlow is imported.

    Input: ``predict``/``predict_batch`` take Google's simplified drawings as they are, and raw
    strokes (screen pixels, any scale and density, ``[[x...], [y...](, [t...])]`` or
    ``[(x, y(, t)), ...]``) which they first simplify as Google did (``inkcast.runtime.simplify``).
    ``raw=None`` (the default) tells the two apart by ``simplify.looks_simplified``; ``raw=True``
    or ``raw=False`` says which it is. ``stream()`` recognizes a drawing while it is drawn.

    "I don't know": ``recognize``/``recognize_batch`` answer a ``Recognition`` whose ``label`` is
    None when the top-1 probability is below the bundle's ``threshold`` (chosen at export on known
    validation drawings, manifest ``unknown``); ``predict`` keeps returning the top-k.

    Threads: one recognizer may be shared by any number of threads, and each caller gets exactly
    the answer it would get alone. The tflite backend runs one sample at a time under a lock (a
    LiteRT interpreter is not thread-safe, and its LSTM state is reset before every sample), so
    concurrent calls queue; the onnx backend calls ``InferenceSession.run``, which ONNX Runtime
    documents as safe to call concurrently, so calls overlap. Preprocessing holds no shared state.
    For throughput on many cores use one recognizer per thread (tflite) or ``predict_batch``.
    ``tests/test_concurrency.py`` checks both backends from 8 threads.
    """

    task = "sketch"

    def __init__(self, bundle_dir: str | Path, backend: str = "tflite", variant: str | None = None,
                 num_threads: int | None = None, verify: bool = True, signed_by: str | Path | None = None,
                 *, format: str | None = None):
        super().__init__(bundle_dir, backend, variant, num_threads, verify, signed_by, format=format)
        self.labels: list[str] = list(self.manifest["labels"])
        self.preprocessing = SketchPreprocessing.from_dict(self.manifest["preprocessing"])
        n_out = self.model.run(pad_left([np.array([[0.1, 0.1, 1.0]], np.float32)])).shape[-1]
        if n_out != len(self.labels):
            raise BundleError(f"{self.path}: the model has {n_out} outputs but the manifest lists "
                              f"{len(self.labels)} labels")

    @property
    def threshold(self) -> float | None:
        """The top-1 probability below which a drawing is "unknown" (None: a bundle without one)."""
        u = self.manifest.get("unknown")
        return float(u["threshold"]) if isinstance(u, dict) and u.get("threshold") is not None else None

    @property
    def max_points(self) -> int:
        """The longest model input in rows (the bundle's ``preprocessing.max_points``)."""
        return self.preprocessing.max_points

    def features(self, drawing: Any, raw: bool | None = None) -> np.ndarray:
        """The (length, 3) model input for a drawing (the bundle's preprocessing contract); raw
        input is detected and simplified as in ``predict``, so every method sees the same rows."""
        return model_rows(drawing, self.preprocessing, raw)

    def probabilities_of_features(self, rows: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities (n, n_labels) for preprocessed rows, each run at its own length.

        The model is padding-invariant, so rows of equal length are batched together (ONNX)."""
        if len(rows) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return run_by_length(self.model, rows)

    def probabilities(self, drawing: Any, raw: bool | None = None) -> np.ndarray:
        """Class probabilities for one drawing, in the order of ``labels`` (``raw`` as in ``predict``)."""
        return self.model.invoke_one(self.features(drawing, raw)[None])

    def rank(self, probabilities: np.ndarray, top_k: int = 3) -> Prediction:
        """The ``top_k`` labels of a probability vector, best first (``ranking.rank``)."""
        return rank(probabilities, self.labels, top_k)

    def predict(self, drawing: Any, top_k: int = 3, raw: bool | None = None) -> Prediction:
        """The ``top_k`` most likely labels of one drawing, best first, as (label, probability).

        ``raw``: True = simplify first, False = use as given, None = decide (see the class doc)."""
        top_k = check_top_k(top_k)
        return self.rank(self.probabilities(drawing, raw), top_k)

    def recognize(self, drawing: Any, top_k: int = 3, raw: bool | None = None) -> Recognition:
        """The drawing's label, or None ("unknown") when the model is not sure enough, with the top-k."""
        top_k = check_top_k(top_k)
        return self.recognition(self.probabilities(drawing, raw), top_k)

    def recognition(self, probabilities: np.ndarray, top_k: int = 3) -> Recognition:
        """The ``Recognition`` of a probability vector under this bundle's threshold."""
        return recognition(probabilities, self.labels, top_k, self.threshold)

    def _batch_probabilities(self, drawings: Sequence[Any], raw: bool | None) -> np.ndarray:
        rows = []
        for i, d in enumerate(drawings):
            try:
                rows.append(model_rows(d, self.preprocessing, raw))
            except BadInputError as e:
                raise BadInputError(f"drawing {i}: {e}") from None
        return self.probabilities_of_features(rows)

    def predict_batch(self, drawings: Sequence[Any], top_k: int = 3,
                      raw: bool | None = None) -> list[Prediction]:
        """``predict`` for many drawings; a bad drawing raises naming its index in the batch."""
        top_k = check_top_k(top_k)
        return [self.rank(p, top_k) for p in self._batch_probabilities(drawings, raw)]

    def recognize_batch(self, drawings: Sequence[Any], top_k: int = 3,
                        raw: bool | None = None) -> list[Recognition]:
        """``recognize`` for many drawings; a bad drawing raises naming its index in the batch."""
        top_k = check_top_k(top_k)
        return [self.recognition(p, top_k) for p in self._batch_probabilities(drawings, raw)]

    def stream(self, top_k: int = 3, raw: bool | None = None, layout: str | None = None):
        """A :class:`~inkcast.runtime.stream.SketchStream`: recognition while a drawing is drawn."""
        from .stream import SketchStream

        return SketchStream(self, top_k=top_k, raw=raw, layout=layout)
