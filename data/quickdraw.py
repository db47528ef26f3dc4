"""Quick, Draw! "simplified" ndjson in Google's layout (a folder of ``<category>.ndjson``), split.

The train/validation/test split comes from a hash of each drawing's ``key_id``, so a drawing
keeps its split when files are reordered, capped differently or grow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inkcast.runtime.errors import BadInputError
from inkcast.runtime.sketch_preprocess import MAX_POINTS, SPACING, drawing_to_points, points_to_features

from .ndjson import iter_records

SPLITS = ("train", "validation", "test")


@dataclass
class QuickDrawOptions:
    """Which drawings to read and how to split them."""

    categories: tuple[str, ...] | None = None  # None: every <category>.ndjson in the folder
    max_per_category: int | None = None  # the first N usable lines of each file
    recognized_only: bool = False  # keep only drawings the game recognized
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)


def split_of(key_id: str, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> str:
    """The split of one drawing: a stable function of its key_id alone."""
    u = int(hashlib.sha256(key_id.encode("utf-8")).hexdigest()[:12], 16) / float(1 << 48)
    if u < fractions[0]:
        return "train"
    if u < fractions[0] + fractions[1]:
        return "validation"
    return "test"


def list_categories(folder: Path) -> list[str]:
    """Category names of a folder: its ``*.ndjson`` file names without extension, sorted."""
    if not folder.is_dir():
        raise BadInputError(f"{folder}: no such data folder")
    names = sorted(p.stem for p in folder.glob("*.ndjson"))
    if not names:
        raise BadInputError(f"{folder}: no <category>.ndjson files in this folder")
    return names


@dataclass
class SketchSplit:
    """One split: preprocessed (length_i, 3) rows, integer labels and key_ids."""

    features: list[np.ndarray] = field(default_factory=list)
    points: list[np.ndarray] = field(default_factory=list)  # absolute points, for augmentation
    labels: list[int] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def y(self) -> np.ndarray:
        return np.asarray(self.labels, dtype=np.int64)


@dataclass
class SketchDataset:
    """The drawings of a folder, preprocessed and split."""

    categories: list[str]
    splits: dict[str, SketchSplit]
    source: str

    def __getitem__(self, split: str) -> SketchSplit:
        return self.splits[split]


def load_quickdraw(folder: str | Path, options: QuickDrawOptions | None = None,
                   max_points: int = MAX_POINTS, spacing: float | None = SPACING) -> SketchDataset:
    """Read, validate, preprocess (``points_to_features``) and split a Quick, Draw! folder."""
    options = options or QuickDrawOptions()
    folder = Path(folder)
    available = list_categories(folder)
    categories = list(options.categories) if options.categories else available
    missing = [c for c in categories if c not in available]
    if missing:
        raise BadInputError(f"{folder}: no file for categories {missing}; available: {available}")
    splits = {s: SketchSplit() for s in SPLITS}
    for label, cat in enumerate(categories):
        path = folder / f"{cat}.ndjson"
        n = 0
        for lineno, rec in iter_records(path, recognized_only=options.recognized_only):
            if options.max_per_category is not None and n >= options.max_per_category:
                break
            try:
                points = drawing_to_points(rec["drawing"])
                feats = points_to_features(points, max_points, spacing)
            except BadInputError as e:
                raise BadInputError(f"{path}:{lineno}: bad drawing: {e}") from None
            s = splits[split_of(rec["key_id"], options.split_fractions)]
            s.features.append(feats)
            s.points.append(points)
            s.labels.append(label)
            s.key_ids.append(rec["key_id"])
            n += 1
        if n == 0:
            raise BadInputError(f"{path}: no usable drawings in this file")
    return SketchDataset(categories=categories, splits=splits, source=str(folder))


def split_records(folder: str | Path, split: str = "test", categories: list[str] | None = None,
                  per_category: int | None = None, options: QuickDrawOptions | None = None) -> list[dict]:
    """The records of one split (by key_id hash), category by category in file order.

    Each record gets ``word`` (its category) and ``label`` (the category's index) if missing."""
    o = options or QuickDrawOptions()
    folder = Path(folder)
    available = list_categories(folder)
    cats = list(categories) if categories else available
    missing = [c for c in cats if c not in available]
    if missing:
        raise BadInputError(f"{folder}: no <category>.ndjson for {missing}")
    out = []
    for label, cat in enumerate(cats):
        n = 0
        for _, rec in iter_records(folder / f"{cat}.ndjson", recognized_only=o.recognized_only):
            if per_category is not None and n >= per_category:
                break
            if split_of(rec["key_id"], o.split_fractions) != split:
                continue
            rec.setdefault("word", cat)
            rec["label"] = label
            out.append(rec)
            n += 1
    return out
