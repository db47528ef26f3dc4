"""Write the demo's real sample (``data/sample``) from the shared data: unmodified lines of Google's
simplified ndjson, so ``inkcast demo`` trains on real drawings with no download.

* ``known/``: 300 drawings of each of the five shared categories, every 13th line of each file;
* ``other/``: 15 drawings of every 8th of the 168 other categories (21 categories, 315 drawings),
  the outliers that teach "I'm not sure" (split by category as every outlier folder is).

    python scripts/make_demo_sample.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "sample"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    a = ap.parse_args()
    for sub, files, step, n in (("known", sorted((a.data / "quickdraw").glob("*.ndjson")), 13, 300),
                                ("other", sorted((a.data / "quickdraw-raw" / "simplified").glob("*.ndjson"))[::8], 1, 15)):
        (OUT / sub).mkdir(parents=True, exist_ok=True)
        for f in files:
            with open(f, encoding="utf-8") as fh:
                lines = list(itertools.islice(itertools.islice(fh, 0, None, step), n))
            (OUT / sub / f.name).write_text("".join(lines), encoding="utf-8")
    size = sum(p.stat().st_size for p in OUT.rglob("*.ndjson"))
    print(f"{OUT}: {size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
