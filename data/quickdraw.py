"""A folder of Quick, Draw! category files (``<category>.ndjson|.bin|.npz|.csv``), read and split.

The train/validation/test split comes from a hash of each drawing's ``key_id``, so a drawing
keeps its split when files are reordered, capped differently or grow (``split_by="source"``
keeps the split a file carries instead: sketch-rnn's train/valid/test). File formats:
``inkcast.data.formats``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inkcast.runtime.errors import BadInputError
from inkcast.runtime.sketch_input import plain_points
from inkcast.runtime.sketch_preprocess import MAX_POINTS, SPACING, points_to_features

from .formats import category_files, read_file

SPLITS = ("train", "validation", "test")
SPLIT_BY = ("key_id", "source")


@dataclass
class QuickDrawOptions:
    """Which drawings to read and how to split them."""

    categories: tuple[str, ...] | None = None  # None: every <category>.ndjson in the folder
    max_per_category: int | None = None  # the first N usable lines of each file
    recognized_only: bool = False  # keep only drawings the game recognized
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    format: str | None = None  # None: each file's format detected (formats.format_of)
    split_by: str = "key_id"  # or "source": the split the file carries (sketch-rnn .npz)


def split_of(key_id: str, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> str:
    """The split of one drawing: a stable function of its key_id alone."""
    u = int(hashlib.sha256(key_id.encode("utf-8")).hexdigest()[:12], 16) / float(1 << 48)
    if u < fractions[0]:
        return "train"
    if u < fractions[0] + fractions[1]:
        return "validation"
    return "test"


def list_categories(folder: Path, format: str | None = None) -> list[str]:
    """Category names of a folder: its category files' names without extension, sorted."""
    return list(category_files(folder, format))


def split_of_record(rec: dict, options: "QuickDrawOptions", where: str) -> str:
    """The split a record goes to under ``options.split_by``."""
    if options.split_by == "key_id":
        return split_of(rec["key_id"], options.split_fractions)
    if options.split_by != "source":
        raise BadInputError(f"split_by must be one of {SPLIT_BY}, got {options.split_by!r}")
    if rec.get("split") not in SPLITS:
        raise BadInputError(f"{where}: split_by='source' needs files that carry their split (sketch-rnn .npz)")
    return rec["split"]


def iter_category(folder: str | Path, options: "QuickDrawOptions", categories: list[str] | None = None,
                  simplify_raw: bool = True):
    """(label, category, where, record) for every record of the chosen categories, file by file.

    Each category's records are capped at ``options.max_per_category``; a category file with no
    usable record is refused."""
    folder = Path(folder)
    files = category_files(folder, options.format)
    cats = list(categories) if categories else (list(options.categories) if options.categories else list(files))
    missing = [c for c in cats if c not in files]
    if missing:
        raise BadInputError(f"{folder}: no file for categories {missing}; available: {list(files)}")
    for label, cat in enumerate(cats):
        path, fmt = files[cat]
        n = 0
        for where, rec in read_file(path, fmt, word=cat, simplify_raw=simplify_raw,
                                    recognized_only=options.recognized_only):
            if options.max_per_category is not None and n >= options.max_per_category:
                break
            yield label, cat, where, rec
            n += 1
        if n == 0:
            raise BadInputError(f"{path}: no usable drawings in this file")


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
    categories = list(options.categories) if options.categories else list_categories(folder, options.format)
    splits = {s: SketchSplit() for s in SPLITS}
    for label, _, where, rec in iter_category(folder, options, categories):
        try:
            points = plain_points(rec["drawing"])
            feats = points_to_features(points, max_points, spacing)
        except BadInputError as e:
            raise BadInputError(f"{where}: bad drawing: {e}") from None
        s = splits[split_of_record(rec, options, where)]
        s.features.append(feats)
        s.points.append(points)
        s.labels.append(label)
        s.key_ids.append(rec["key_id"])
    return SketchDataset(categories=categories, splits=splits, source=str(folder))


def split_records(folder: str | Path, split: str = "test", categories: list[str] | None = None,
                  per_category: int | None = None, options: QuickDrawOptions | None = None) -> list[dict]:
    """The records of one split, category by category in file order, drawings as the files hold
    them (raw drawings stay raw: the recognizer simplifies them as a device would).

    Each record gets ``word`` (its category) and ``label`` (the category's index) if missing."""
    o = options or QuickDrawOptions()
    files = category_files(folder, o.format)
    cats = list(categories) if categories else list(files)
    missing = [c for c in cats if c not in files]
    if missing:
        raise BadInputError(f"{folder}: no file for categories {missing}; available: {list(files)}")
    out = []
    for label, cat in enumerate(cats):
        n = 0
        path, fmt = files[cat]
        for where, rec in read_file(path, fmt, word=cat, simplify_raw=False, recognized_only=o.recognized_only):
            if per_category is not None and n >= per_category:
                break
            if split_of_record(rec, o, where) != split:
                continue
            rec.setdefault("word", cat)
            rec["label"] = label
            out.append(rec)
            n += 1
    return out
