"""A folder of outlier categories with only the first N of the ``train`` role (by name), for the
"how many kinds of other drawings" curve of docs/RESULTS.md ("I don't know"). The validation and
test roles are kept whole, so runs trained on any subset are scored on the same categories.
Files are symlinks into the source folder; with ``--drawings N`` the train-role files are the first
N drawings of each instead (written into ``out``), for "more kinds or more drawings of each".

    python -m experiments.outlier_subset ../shared/data/quickdraw-raw/simplified 52 runs/outliers52
    python -m experiments.outlier_subset ../shared/data/quickdraw-raw/simplified 104 runs/outliers104x12 --drawings 12
"""

from __future__ import annotations

import argparse
from itertools import islice
from pathlib import Path

from inkcast.data.outliers import role_of


def make_subset(source: Path, train_categories: int, out: Path, drawings: int | None = None) -> list[str]:
    """Link every non-train category and the first ``train_categories`` train ones (the first
    ``drawings`` lines of each, when given); their names."""
    files = sorted(source.glob("*.ndjson"))
    train = [f for f in files if role_of(f.stem) == "train"][:train_categories]
    out.mkdir(parents=True, exist_ok=True)
    cut = set(train) if drawings is not None else set()
    for f in train + [f for f in files if role_of(f.stem) != "train"]:
        target = out / f.name
        if target.exists() or target.is_symlink():
            continue
        if f in cut:
            with f.open() as lines:
                target.write_text("".join(islice(lines, drawings)))
        else:
            target.symlink_to(f.resolve())
    return [f.stem for f in train]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", type=Path)
    p.add_argument("train_categories", type=int)
    p.add_argument("out", type=Path)
    p.add_argument("--drawings", type=int, help="keep only the first N drawings of each train-role category")
    a = p.parse_args()
    names = make_subset(a.source, a.train_categories, a.out, a.drawings)
    print(f"{a.out}: {len(names)} train-role categories ({names[0]} .. {names[-1]}) and every other role")


if __name__ == "__main__":
    main()
