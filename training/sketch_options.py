"""Options of a sketch training run, with the defaults used for the published figures."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from inkcast.runtime.sketch_preprocess import SPACING

from inkcast.data.quickdraw import QuickDrawOptions
from .schedule import BUDGET_EPOCHS, MAX_STEPS, MIN_STEPS
from .sketch_model import SketchModelOptions


UNKNOWN_METHODS = ("outlier-exposure", "background-class")
FINAL_RATE_SHARE = 0.02  # the cosine schedule ends at learning_rate x this


@dataclass
class SketchTrainOptions:
    """Everything that decides a training run; written verbatim to metrics.json and options.json."""

    data: QuickDrawOptions = field(default_factory=QuickDrawOptions)
    model: SketchModelOptions = field(default_factory=SketchModelOptions)
    # passes over the training split; None (the default): a step budget decides (training/schedule.py):
    # budget_epochs passes, raised to min_steps optimizer steps for a small set, capped at max_steps
    # for a large one; the cosine decay runs over the chosen epochs (docs/RESULTS.md, "Training length")
    epochs: int | None = None
    budget_epochs: int = BUDGET_EPOCHS  # 24: 96.50 % on the five shared categories (docs/RESULTS.md)
    min_steps: int = MIN_STEPS
    max_steps: int = MAX_STEPS
    batch_size: int = 64
    # drawings of similar length per bucket; a batch is batch_size / bucket_size buckets drawn at
    # random (BucketedBatches), the same mix for any number of workers; None: one bucket a batch
    bucket_size: int | None = 16
    learning_rate: float = 2e-3
    # "cosine": the rate falls from learning_rate to learning_rate / 50 along a half cosine over
    # the epochs (a fixed budget that ends fine-tuned); "plateau": halved after 2 epochs without a
    # better validation loss
    schedule: str = "cosine"
    # epochs without a better validation accuracy before stopping and going back to the best
    # epoch's weights; None: every epoch runs and the last one's weights are kept. The cosine
    # schedule's last epochs score within a few validation drawings of each other, so picking
    # the best of them picks noise (docs/RESULTS.md, "Early stopping")
    patience: int | None = None
    resample_spacing: float | None = SPACING  # the preprocessing contract's resampling (None: off)
    augment: bool = True  # random rotation and shear of each training drawing, every epoch
    rotate_degrees: float = 12.0
    shear: float = 0.15
    drop_points: float = 0.2  # up to this share of interior stroke points dropped (see augment_points)
    max_train_seconds: float | None = None  # an optional time budget (no epoch is started that would pass it);
    # off by default: what a default run produces must not depend on how fast the machine is
    seed: int = 7
    calibration_samples: int = 2000  # training drawings kept for quantization calibration
    steps_per_epoch: int | None = None  # at most this many batches an epoch (None: the whole split); for
    # measuring cost on very large sets (experiments/scale.py), not for models to keep
    pool_size: int = 16_384  # a prepared dataset is streamed in pools of this many drawings (sketch_data)
    # Open-set training ("unknown"): folders whose categories other than the labels are outlier
    # drawings, split by category (data/outliers.py). Empty: no outlier training, and the run's
    # threshold is a plain max-softmax one.
    outliers: tuple[str, ...] = ()
    # "outlier-exposure": the softmax is pushed toward uniform on outliers (Hendrycks et al. 2019),
    # the model keeps its outputs; "background-class": one more output for "none of these" (kept
    # for the comparison in docs/RESULTS.md; export takes outlier-exposure runs)
    unknown_method: str = "outlier-exposure"
    outlier_weight: float = 0.5  # outlier exposure's loss weight (lambda)
    outlier_share: float = 0.25  # outlier drawings added to each training pool, per known drawing (augmented)
    outlier_max_per_category: int | None = 200  # outlier drawings read per category
    outlier_mix: float = 0.0  # share of the outlier drawings shown as chimeras of two (open_set.chimera)
    known_mix_share: float = 0.0  # chimeras of two known drawings of different labels, per known drawing
    known_kept: float = 0.95  # the run's threshold keeps this share of known validation drawings

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def final_learning_rate(self) -> float:
        """Where the cosine schedule ends (QAT fine-tunes from there; plateau runs: the same bound)."""
        return self.learning_rate * FINAL_RATE_SHARE

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SketchTrainOptions":
        """Rebuild from ``to_dict``; refuses a dict whose model fields differ from this version's,
        since a missing field would silently rebuild a different network around the weights."""
        d = dict(d)
        from dataclasses import fields

        want = {f.name for f in fields(SketchModelOptions)}
        got = set(d.get("model", {}))
        if got != want:
            raise ValueError(f"the run's model options {sorted(got)} do not match this inkcast's "
                             f"{sorted(want)}: retrain with this version")
        d.setdefault("resample_spacing", None)  # runs from before resampling used the raw points
        d.setdefault("schedule", "plateau")  # runs from before the schedule option
        d.setdefault("patience", 5)  # runs from before early stopping was made optional
        d.setdefault("bucket_size", None)  # runs from before: one length bucket a batch
        d["outliers"] = tuple(d.get("outliers") or ())  # runs from before open-set training: none
        data = QuickDrawOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.pop("data", {}).items()})
        model = SketchModelOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.pop("model", {}).items()})
        return cls(data=data, model=model, **d)
