"""``quickdraw_strokes``: Quick, Draw! pen strokes as a TensorFlow Datasets dataset.

TFDS publishes only ``quickdraw_bitmap`` (28x28 images); a strokes builder was proposed upstream
and never merged. This one builds from a folder of category files in any format inkcast reads
(``inkcast.data.formats``: simplified or raw ndjson, binary, sketch-rnn npz, Kaggle CSV), as a
manual-dir dataset, into sharded TFRecord files::

    inkcast data prepare ~/quickdraw --out ~/tensorflow_datasets      # or, from Python:
    prepare("~/quickdraw", "~/tensorflow_datasets")

    ds = tfds.load("quickdraw_strokes", data_dir="~/tensorflow_datasets", split="train")

Features: ``points`` ((n, 3) uint8: x, y in Google's 0..255 frame and end_of_stroke, the
simplified drawing; raw drawings are simplified by the runtime's ``simplify`` on the way in),
``label`` (``ClassLabel`` with the category names, in the folder's sorted order), ``key_id``,
``index`` (the record's position in its category file: (label, index) is the in-memory reader's
order), ``recognized``. Splits train/validation/test by the sha256 of ``key_id``
(``inkcast.data.quickdraw.split_of``, the in-memory path's split) or by the file's own split
(``split_by="source"``, sketch-rnn).

All 345 categories (about 50 M drawings, 22 GB of simplified ndjson): ``inkcast data download
--categories all --out DIR``, then ``inkcast data prepare DIR --out DATA_DIR --shards 1024``. On
one machine that is one pass over the files per split; where that is too slow, build it with
Apache Beam (``pip install apache-beam``) -- see ``docs/DATASET.md``.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import tensorflow_datasets as tfds

from inkcast.data.files import is_disk_full
from inkcast.data.formats import category_files, read_file
from inkcast.data.ndjson import MAX_LINE_BYTES, iter_raw_lines, parse_line, record_of
from inkcast.data.quickdraw import SPLITS, QuickDrawOptions, split_of, split_of_record
from inkcast.runtime.errors import BadInputError, InkcastError
from inkcast.runtime.sketch_input import parse_plain_lists, plain_points

NAME = "quickdraw_strokes"
SHARDS = 16  # per split; multi-worker training shards the train split across workers by file
# Google's simplified lines write key_id as a quoted string: the split can be told from it
# without parsing the line, so each of the three split passes parses only its own lines
_KEY_ID = re.compile(rb'"key_id"\s*:\s*"(\d+)"')


@dataclasses.dataclass
class PrepareOptions:
    """Which drawings go into the dataset, and how it is split and sharded."""

    data: QuickDrawOptions = dataclasses.field(default_factory=QuickDrawOptions)
    shards: int = SHARDS
    version: str = "1.0.0"


class QuickdrawStrokes(tfds.core.GeneratorBasedBuilder):
    """Quick, Draw! pen strokes, split by key_id hash (or the files' own split)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Strokes of any Quick, Draw! format, split by key_id hash."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Put one file per category in the manual dir (<category>.ndjson simplified or raw, .bin, .npz or "
        ".csv), e.g. with `inkcast data download --categories all --out MANUAL_DIR`.")

    def __init__(self, *, source: QuickDrawOptions | None = None, categories: list[str] | None = None, **kwargs):
        self.source, self.categories = source or QuickDrawOptions(), categories
        self.line_offsets: dict = {}  # simplified files: the other splits' line offsets (_simplified_split)
        super().__init__(**kwargs)

    def _info(self) -> tfds.core.DatasetInfo:
        # categories are None when an existing dataset is read: TFDS restores the names from it
        label = tfds.features.ClassLabel(names=self.categories) if self.categories else tfds.features.ClassLabel()
        # DatasetInfo itself, not dataset_info_from_configs: that one looks for README/CITATIONS
        # files beside the module through the package path, which setuptools' package-dir mapping
        # (inkcast.datasets lives in strokes_dataset/, not in cli/datasets/) sends astray
        return tfds.core.DatasetInfo(
            builder=self,
            description="Quick, Draw! pen strokes (Google's simplified drawings), one category per label.",
            features=tfds.features.FeaturesDict({
                "points": tfds.features.Tensor(shape=(None, 3), dtype=np.uint8, encoding=tfds.features.Encoding.BYTES),
                "label": label,
                "key_id": tfds.features.Text(),
                "index": np.int64,  # the drawing's position in its category file (0 = the first record)
                "recognized": np.bool_,
            }),
            supervised_keys=("points", "label"),
            homepage="https://quickdraw.withgoogle.com/data",
            citation="Quick, Draw! data by Google, CC BY 4.0.",
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager) -> dict[str, Any]:
        files = category_files(Path(dl_manager.manual_dir), self.source.format)
        cats = self.categories or list(files)
        missing = [c for c in cats if c not in files]
        if missing:
            raise BadInputError(f"{dl_manager.manual_dir}: no file for categories {missing}")
        chosen = [(i, c, *files[c]) for i, c in enumerate(cats)]
        return {s: self._generate_examples(chosen, s) for s in SPLITS}

    def _generate_examples(self, files: list[tuple[int, str, Path, str]], split: str) -> Iterator[tuple[str, dict]]:
        for label, cat, path, fmt in files:
            if fmt == "simplified" and self.source.split_by == "key_id" and not self.source.recognized_only:
                records = _simplified_split(path, cat, split, self.source, self.line_offsets)
            else:
                records = _records_of_split(path, fmt, cat, split, self.source)
            for index, where, rec in records:
                yield f"{label}/{index}", example_of(rec, label, index, where)


def _records_of_split(path: Path, fmt: str, cat: str, split: str,
                      o: QuickDrawOptions) -> Iterator[tuple[int, str, dict]]:
    """(index in the file, where, record) for the records of one split of one file, capped at
    ``o.max_per_category`` (counted over all splits, as the in-memory reader counts)."""
    n = 0
    for where, rec in read_file(path, fmt, word=cat, recognized_only=o.recognized_only):
        if o.max_per_category is not None and n >= o.max_per_category:
            return
        n += 1
        if split_of_record(rec, o, where) == split:
            yield n - 1, where, rec


def _simplified_split(path: Path, cat: str, split: str, o: QuickDrawOptions,
                      offsets: dict[Path, dict[str, list[tuple[int, int, int]]]]) -> Iterator[tuple[int, str, dict]]:
    """``_records_of_split`` for Google's simplified ndjson, which is most of the real dataset, with
    each line read once for the split it belongs to: the first pass over a file (normally the
    training split's) tells every line's split from its key_id without parsing it (Google writes
    ``"key_id":"<digits>"``; other lines are parsed) and keeps the byte offsets of the other
    splits' lines (about 20 % of them, 24 bytes each), which their passes then read directly."""
    def record(index: int, lineno: int, raw: bytes) -> tuple[int, str, dict]:
        where = f"{path}:{lineno}"
        return index, where, record_of(parse_line(path, lineno, raw), where, cat)

    if path in offsets:
        with open(path, "rb") as f:
            for index, lineno, at in offsets[path].pop(split, []):
                f.seek(at)
                yield record(index, lineno, f.readline(MAX_LINE_BYTES + 1))
        return
    kept: dict[str, list[tuple[int, int, int]]] = {s: [] for s in SPLITS if s != split}
    index = 0
    for lineno, at, raw in iter_raw_lines(path):
        if o.max_per_category is not None and index >= o.max_per_category:
            break
        m = _KEY_ID.search(raw)
        if m is not None:
            s = split_of(m.group(1).decode(), o.split_fractions)
        else:  # key_id written otherwise (a number, spaced): parse the line to find it
            s = split_of(record(index, lineno, raw)[2]["key_id"], o.split_fractions)
        if s == split:
            yield record(index, lineno, raw)
        else:
            kept[s].append((index, lineno, at))
        index += 1
    offsets[path] = kept


def _google_points(drawing: Any) -> np.ndarray | None:
    """(n, 3) uint8 points of a drawing as Google's simplified files hold it (lists of Python ints
    in 0..255), from ``parse_plain_lists`` in a few NumPy calls; None for anything else
    (``plain_points`` then checks it and names the problem)."""
    parsed = parse_plain_lists(drawing)
    if parsed is None:
        return None
    xs, ys, ends = parsed
    xy = np.array((xs, ys))
    if xy.dtype.kind != "i" or xy.min() < 0 or xy.max() > 255:  # floats, or outside the frame
        return None
    pts = np.zeros((len(xs), 3), np.uint8)
    pts[:, 0], pts[:, 1] = xy
    pts[ends, 2] = 1
    return pts


def example_of(rec: dict, label: int, index: int, where: str) -> dict:
    """A record -> the dataset's example; refuses drawings outside Google's 0..255 integer frame."""
    small = _google_points(rec["drawing"])
    if small is None:
        try:
            pts = plain_points(rec["drawing"])
        except BadInputError as e:
            raise BadInputError(f"{where}: bad drawing: {e}") from None
        small = pts.astype(np.uint8)  # a negative, fractional or > 255 value does not survive the cast
        if not np.array_equal(small, pts):
            raise BadInputError(f"{where}: coordinates must be integers in 0..255 (Google's simplified frame); "
                                "give raw drawings as format 'raw'")
    return {"points": small, "label": label, "key_id": rec["key_id"], "index": index,
            "recognized": bool(rec.get("recognized", True))}


class _ShardsAtMostExamples(tfds.core.utils.shard_utils.ShardConfig):
    """``shards`` files per split, but never more files than drawings: TFDS refuses a split with
    fewer examples than shards, and a small folder has small splits."""

    def get_number_shards(self, total_size: int, num_examples: int, uses_precise_sharding: bool = True) -> int:
        return max(1, min(self.num_shards or 1, num_examples))


@dataclasses.dataclass
class _DownloadConfig(tfds.download.DownloadConfig):
    def get_shard_config(self) -> tfds.core.utils.shard_utils.ShardConfig:
        return _ShardsAtMostExamples(num_shards=self.num_shards, min_shard_size=self.min_shard_size,
                                     max_shard_size=self.max_shard_size)


def prepare(source_dir: str | Path, data_dir: str | Path, options: PrepareOptions | None = None) -> QuickdrawStrokes:
    """Build ``quickdraw_strokes`` from a folder of category files into ``data_dir``; returns the
    builder (``builder.as_dataset(split=...)``, or ``tfds.load`` with ``data_dir``)."""
    o = options or PrepareOptions()
    if not sys.stderr.isatty():
        tfds.disable_progress_bar()  # its bars are for terminals; logs get the summary line
    cats = list(o.data.categories) if o.data.categories else list(category_files(source_dir, o.data.format))
    builder = QuickdrawStrokes(data_dir=str(data_dir), source=o.data, categories=cats, version=o.version)
    try:
        builder.download_and_prepare(download_config=_DownloadConfig(
            manual_dir=str(source_dir), num_shards=o.shards, try_download_gcs=False))
    except Exception as e:
        if is_disk_full(e):  # TFDS wraps TensorFlow's own error in a RuntimeError: say it plainly
            raise PrepareError(f"{data_dir}: no space left on the device while writing the dataset; nothing was "
                               "kept (TFDS writes into an incomplete folder and removes it): free space or choose "
                               "another --out") from None
        raise
    return builder


class PrepareError(InkcastError):
    """The dataset could not be written (a full disk); nothing half-written is left."""
