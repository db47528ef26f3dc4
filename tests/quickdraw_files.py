"""Writers of Quick, Draw! files in the layouts Google and Kaggle document, for the tests.

Written apart from the readers (``inkcast.data.formats``) and straight from the documentation,
so a reader bug cannot hide behind the same bug in a shared writer:

* binary (Google's dataset README, "The binary files"): per drawing, little-endian
  ``uint64 key_id, char[2] countrycode, uint8 recognized, uint32 timestamp, uint16 n_strokes``,
  then per stroke ``uint16 n_points, uint8 x[n_points], uint8 y[n_points]``;
* Kaggle ``train_simplified/<word>.csv``: header ``countrycode,drawing,key_id,recognized,
  timestamp,word``, the drawing as JSON text, recognized as ``True``/``False``.
"""

from __future__ import annotations

import csv
import json
import struct
from datetime import datetime, timezone
from pathlib import Path


def unix_seconds(timestamp: str) -> int:
    """Google's ndjson timestamp ("2017-03-14 13:39:00.93558 UTC") as whole Unix seconds."""
    return int(datetime.strptime(timestamp[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp())


def write_binary(records: list[dict], path: Path) -> None:
    with open(path, "wb") as f:
        for r in records:
            f.write(struct.pack("<Q", int(r["key_id"])))
            f.write(struct.pack("2s", r["countrycode"].encode("ascii")))
            f.write(struct.pack("<B", 1 if r["recognized"] else 0))
            f.write(struct.pack("<I", unix_seconds(r["timestamp"])))
            f.write(struct.pack("<H", len(r["drawing"])))
            for xs, ys in r["drawing"]:
                f.write(struct.pack("<H", len(xs)))
                f.write(struct.pack(f"<{len(xs)}B", *xs))
                f.write(struct.pack(f"<{len(ys)}B", *ys))


def write_kaggle_csv(records: list[dict], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["countrycode", "drawing", "key_id", "recognized", "timestamp", "word"])
        for r in records:
            w.writerow([r["countrycode"], json.dumps(r["drawing"], separators=(",", ":")), r["key_id"],
                        "True" if r["recognized"] else "False", r["timestamp"][:26], r["word"]])


def read_ndjson(path: Path, limit: int | None = None) -> list[dict]:
    """The records of an ndjson file as plain json.loads gives them (the reference)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if limit is not None and len(out) >= limit:
                break
            out.append(json.loads(line))
    return out
