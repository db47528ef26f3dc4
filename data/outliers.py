"""Drawings of categories outside the label set ("outliers"), split by category.

Open-set training shows the model what "none of these" looks like. The figures that say how well
it rejects unknown drawings are only honest on categories it never met, so outlier drawings are
split **by category**, not by drawing: a stable hash of the category name puts each category in
one role -- ``train`` (shown to the model), ``validation`` (recipe choice and the validation
rates recorded with the threshold) or ``test`` (the reported figures). A category never changes
role when folders grow or are capped differently.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from inkcast.runtime.errors import BadInputError
from inkcast.runtime.sketch_input import plain_points
from inkcast.runtime.sketch_preprocess import MAX_POINTS, SPACING, points_to_features

from .formats import category_files, read_file

ROLES = ("train", "validation", "test")
ROLE_FRACTIONS = (0.6, 0.2, 0.2)  # of the outlier categories


def role_of(category: str, fractions: tuple[float, float, float] = ROLE_FRACTIONS) -> str:
    """The role of one outlier category: a stable function of its name alone."""
    u = int(hashlib.sha256(("outlier:" + category).encode("utf-8")).hexdigest()[:12], 16) / float(1 << 48)
    if u < fractions[0]:
        return "train"
    if u < fractions[0] + fractions[1]:
        return "validation"
    return "test"


@dataclass
class OutlierSplit:
    """The drawings of one role: absolute points, model rows, and each one's category."""

    points: list[np.ndarray] = field(default_factory=list)
    features: list[np.ndarray] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.categories)

    @property
    def category_names(self) -> list[str]:
        """The distinct categories, sorted."""
        return sorted(set(self.categories))


@dataclass
class Outliers:
    """Outlier drawings by role, and where they came from."""

    splits: dict[str, OutlierSplit]
    sources: list[str]

    def __getitem__(self, role: str) -> OutlierSplit:
        return self.splits[role]

    def counts(self) -> dict[str, dict[str, int]]:
        """Drawings and categories of each role (for metrics.json and the progress line)."""
        return {r: {"drawings": len(s), "categories": len(s.category_names)} for r, s in self.splits.items()}


def load_outliers(folders: Sequence[str | Path], labels: Sequence[str], max_per_category: int | None = None,
                  spacing: float | None = SPACING, max_points: int = MAX_POINTS,
                  require_every_role: bool = True) -> Outliers:
    """Every category of ``folders`` that is not one of ``labels``, read, preprocessed and split
    by category (``role_of``). A category found in two folders is read from the first. A drawing
    the preprocessing refuses (a single dot) is skipped, as the game itself could not show it.
    Training needs every role (``require_every_role``); an evaluation takes whatever is there."""
    known = set(labels)
    splits = {r: OutlierSplit() for r in ROLES}
    seen: set[str] = set()
    for folder in folders:
        for cat, (path, fmt) in category_files(folder).items():
            if cat in known or cat in seen:
                continue
            seen.add(cat)
            s = splits[role_of(cat)]
            n = 0
            for where, rec in read_file(path, fmt, word=cat):
                if max_per_category is not None and n >= max_per_category:
                    break
                try:
                    pts = plain_points(rec["drawing"])
                    feats = points_to_features(pts, max_points, spacing)
                except BadInputError:
                    continue
                s.points.append(pts)
                s.features.append(feats)
                s.categories.append(cat)
                s.key_ids.append(rec["key_id"])
                n += 1
    if not seen:
        raise BadInputError(f"{', '.join(map(str, folders))}: no categories other than the labels "
                            f"{list(labels)[:5]}{'...' if len(labels) > 5 else ''} to use as outliers")
    empty = [r for r in ROLES if not len(splits[r])]
    if empty and require_every_role:
        raise BadInputError(f"{', '.join(map(str, folders))}: {len(seen)} outlier categories leave no drawings for "
                            f"the {', '.join(empty)} role(s); outliers are split by category, so give at least a "
                            "handful of categories (the shared set has 168)")
    return Outliers(splits, [str(f) for f in folders])
