"""A folder of outlier categories with only the first N of the ``train`` role (by name), for the
"how many kinds of other drawings" curve of docs/RESULTS.md ("I don't know"). The validation and
test roles are kept whole, so runs trained on any subset are scored on the same categories.
Files are symlinks into the source folder: nothing is copied.

    python -m experiments.outlier_subset ../shared/data/quickdraw-raw/simplified 52 runs/outliers52
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inkcast.data.outliers import role_of


def make_subset(source: Path, train_categories: int, out: Path) -> list[str]:
    """Link every non-train category and the first ``train_categories`` train ones; their names."""
    files = sorted(source.glob("*.ndjson"))
    train = [f for f in files if role_of(f.stem) == "train"][:train_categories]
    keep = train + [f for f in files if role_of(f.stem) != "train"]
    out.mkdir(parents=True, exist_ok=True)
    for f in keep:
        link = out / f.name
        if not link.exists():
            link.symlink_to(f.resolve())
    return [f.stem for f in train]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", type=Path)
    p.add_argument("train_categories", type=int)
    p.add_argument("out", type=Path)
    a = p.parse_args()
    names = make_subset(a.source, a.train_categories, a.out)
    print(f"{a.out}: {len(names)} train-role categories ({names[0]} .. {names[-1]}) and every other role")


if __name__ == "__main__":
    main()
