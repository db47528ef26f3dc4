"""Every Quick, Draw! file format users have, read into one kind of record.

A record is a dict with ``word``, ``key_id`` (str), ``countrycode``, ``recognized`` (bool) and
``drawing`` (Quick, Draw! strokes ``[[x...], [y...]]``), plus ``timestamp`` where the format has
one and ``split`` where the file carries its own split (sketch-rnn). Formats:

* ``simplified`` -- Google's simplified ndjson (``full/simplified/<category>.ndjson``);
* ``raw`` -- Google's raw ndjson (``full/raw/<category>.ndjson``): strokes ``[[x...], [y...],
  [t...]]`` in screen pixels, simplified on reading by the runtime's own ``simplify`` (Google's
  four steps), so raw files train the same model as simplified ones;
* ``binary`` -- Google's packed simplified format (``full/binary/<category>.bin``);
* ``npz`` -- sketch-rnn's stroke-3 files (``sketchrnn/<category>.npz``: keys train/valid/test);
* ``csv`` -- Kaggle's ``train_simplified/<category>.csv`` (the ``drawing`` column as JSON text).

Every malformed record is refused with ``BadInputError`` naming the file and the line, record or
row. NumPy and the standard library only.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from inkcast.runtime.errors import BadInputError
from inkcast.runtime.simplify import simplify

from .ndjson import MAX_LINE_BYTES, check_drawing, iter_lines, record_of

FORMATS = ("simplified", "raw", "binary", "npz", "csv")
SUFFIXES = {".ndjson": ("simplified", "raw"), ".bin": ("binary",), ".npz": ("npz",), ".csv": ("csv",)}
NPZ_SPLITS = {"train": "train", "valid": "validation", "test": "test"}  # sketch-rnn key -> inkcast split
BINARY_HEADER = struct.Struct("<Q2sbIH")  # key_id, country code, recognized, timestamp, stroke count
MAX_NPZ_MEMBER_BYTES = 1 << 30  # a sketch-rnn category file is at most a few hundred MB


def format_of(path: str | Path) -> str:
    """The format of one file: by its suffix, and for ndjson by its first record (a stroke with a
    third row of times, a fractional coordinate or one outside 0..255 means raw)."""
    path = Path(path)
    kinds = SUFFIXES.get(path.suffix.lower())
    if kinds is None:
        raise BadInputError(f"{path}: not a Quick, Draw! file (known suffixes: {', '.join(SUFFIXES)})")
    if len(kinds) == 1:
        return kinds[0]
    for lineno, rec in iter_lines(path):
        drawing = rec.get("drawing") if isinstance(rec, dict) else None
        if drawing is None:
            raise BadInputError(f"{path}:{lineno}: the record has no 'drawing' field")
        return "raw" if _looks_raw(drawing) else "simplified"
    raise BadInputError(f"{path}: the file holds no records")


def _looks_raw(drawing: Any) -> bool:
    try:
        for stroke in drawing:
            if len(stroke) >= 3:
                return True
            for axis in stroke[:2]:
                for v in axis:
                    if not isinstance(v, int) or not 0 <= v <= 255:
                        return True
    except TypeError:
        return False  # malformed: the simplified reader names the problem
    return False


def read_file(path: str | Path, format: str | None = None, word: str | None = None,
              simplify_raw: bool = True, recognized_only: bool = False) -> Iterator[tuple[str, dict]]:
    """(where, record) for every record of one file; ``where`` is "file:line" or "file: record N".

    ``format`` None: ``format_of``. ``word``: the category of files whose records do not name it
    (binary, npz; default the file name). ``simplify_raw=False`` keeps raw drawings as captured
    (what a device would see) instead of simplifying them."""
    path = Path(path)
    fmt = format or format_of(path)
    if fmt not in FORMATS:
        raise BadInputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    word = word or path.stem
    records = {"simplified": _ndjson, "raw": _ndjson, "binary": _binary, "npz": _npz, "csv": _csv}[fmt](path, word)
    for where, rec in records:
        if recognized_only and rec.get("recognized") is False:
            continue
        if fmt == "raw" and simplify_raw:
            try:
                rec["drawing"] = simplify(rec["drawing"], raw=True, layout="strokes")
            except BadInputError as e:
                raise BadInputError(f"{where}: bad raw drawing: {e}") from None
        yield where, rec


def _ndjson(path: Path, word: str) -> Iterator[tuple[str, dict]]:
    for lineno, value in iter_lines(path):
        where = f"{path}:{lineno}"
        yield where, record_of(value, where, word)


def _binary(path: Path, word: str) -> Iterator[tuple[str, dict]]:
    """Google's packed format, as its README documents it (little-endian): uint64 key_id, 2-byte
    country code, int8 recognized, uint32 timestamp, uint16 stroke count, then per stroke a
    uint16 point count n, n uint8 x and n uint8 y."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise BadInputError(f"{path}: cannot open ({e.strerror})") from None
    with f:
        data = f.read()
    at, n = 0, 0
    while at < len(data):
        n += 1
        where = f"{path}: record {n} (byte {at})"
        if at + BINARY_HEADER.size > len(data):
            raise BadInputError(f"{where}: the file ends inside the record's header")
        key_id, country, recognized, timestamp, n_strokes = BINARY_HEADER.unpack_from(data, at)
        at += BINARY_HEADER.size
        if n_strokes == 0:
            raise BadInputError(f"{where}: the drawing has no strokes")
        strokes = []
        for s in range(n_strokes):
            if at + 2 > len(data):
                raise BadInputError(f"{where}: the file ends inside stroke {s}")
            (points,) = struct.unpack_from("<H", data, at)
            at += 2
            if points == 0 or at + 2 * points > len(data):
                raise BadInputError(f"{where}: stroke {s} " + ("has no points" if points == 0 else
                                    f"claims {points} points but the file ends first"))
            strokes.append([list(data[at : at + points]), list(data[at + points : at + 2 * points])])
            at += 2 * points
        if recognized not in (0, 1):
            raise BadInputError(f"{where}: recognized must be 0 or 1, got {recognized}")
        try:
            countrycode = country.decode("ascii")
        except UnicodeDecodeError:
            raise BadInputError(f"{where}: the country code {country!r} is not ASCII") from None
        yield where, {"word": word, "key_id": str(key_id), "countrycode": countrycode,
                      "recognized": bool(recognized), "timestamp": timestamp, "drawing": strokes}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays and nothing else: a sketch-rnn file is an object array of int16
    arrays, which NumPy stores as a pickle; ``np.load(allow_pickle=True)`` would run any code a
    downloaded file carries, this refuses every other global."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a stroke-3 file")
        return super().find_class(module, name)


def _npz_member(path: Path, zf: zipfile.ZipFile, name: str) -> np.ndarray:
    """One array of an .npz: plain arrays through NumPy, object arrays through _ArrayUnpickler."""
    info = zf.getinfo(name)
    if info.file_size > MAX_NPZ_MEMBER_BYTES:
        raise BadInputError(f"{path}: {name} is {info.file_size:,} bytes, over the {MAX_NPZ_MEMBER_BYTES:,} limit")
    raw = zf.read(name)
    buf = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(buf)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f".npy format version {version} (1.0 and 2.0 are read)")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(buf)
        if dtype.hasobject:
            arr = _ArrayUnpickler(buf, encoding="latin1").load()
        else:
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, pickle.UnpicklingError, EOFError, TypeError) as e:
        raise BadInputError(f"{path}: {name} is not a readable array ({e})") from None
    if not isinstance(arr, np.ndarray) or arr.shape != shape:
        raise BadInputError(f"{path}: {name} is not an array of shape {shape}")
    return arr


def stroke3_to_drawing(s3: Any, where: str) -> list[list[list[int]]]:
    """sketch-rnn's (n, 3) ``(dx, dy, pen_lifted)`` rows -> Quick, Draw! strokes in Google's
    frame: absolute points moved to start at 0 and, when the drawing is larger than 255, scaled
    down to it (aspect kept) and rounded, so the records fit the simplified format."""
    a = np.asarray(s3)
    if a.ndim != 2 or a.shape[1] != 3 or a.dtype.kind not in "iu" or len(a) == 0:
        raise BadInputError(f"{where}: expected (n, 3) integer rows (dx, dy, pen_lifted), got "
                            f"{a.dtype} {a.shape}")
    if not np.isin(a[:, 2], (0, 1)).all():
        raise BadInputError(f"{where}: pen_lifted must be 0 or 1")
    xy = np.cumsum(a[:, :2].astype(np.int64), axis=0).astype(np.float64)
    xy -= xy.min(axis=0)
    extent = xy.max()
    if extent > 255:
        xy = np.round(xy * (255.0 / extent))
    ends = np.flatnonzero(a[:, 2] == 1) + 1
    cuts = [0, *ends[ends < len(a)].tolist(), len(a)]
    xi = xy.astype(np.int64)
    return [[xi[i:j, 0].tolist(), xi[i:j, 1].tolist()] for i, j in zip(cuts[:-1], cuts[1:]) if j > i]


def _npz(path: Path, word: str) -> Iterator[tuple[str, dict]]:
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise BadInputError(f"{path}: not an .npz file ({e})") from None
    with zf:
        names = {n.removesuffix(".npy"): n for n in zf.namelist()}
        keys = [k for k in NPZ_SPLITS if k in names]
        if not keys:
            raise BadInputError(f"{path}: no train/valid/test arrays (has {sorted(names)})")
        for key in keys:
            drawings = _npz_member(path, zf, names[key])
            for i, s3 in enumerate(drawings):
                where = f"{path}: {key}[{i}]"
                yield where, {"word": word, "key_id": f"{word}/{key}/{i}", "countrycode": "",
                              "recognized": True, "split": NPZ_SPLITS[key], "drawing": stroke3_to_drawing(s3, where)}


def _csv(path: Path, word: str) -> Iterator[tuple[str, dict]]:
    """Kaggle's columns: countrycode, drawing (JSON text), key_id, recognized, timestamp, word."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    try:
        f = open(path, newline="", encoding="utf-8")
    except OSError as e:
        raise BadInputError(f"{path}: cannot open ({e.strerror})") from None
    with f:
        reader = csv.DictReader(f)
        try:
            header = reader.fieldnames or []
        except (UnicodeDecodeError, csv.Error) as e:
            raise BadInputError(f"{path}:1: unreadable header ({e})") from None
        missing = [c for c in ("drawing", "key_id") if c not in header]
        if missing:
            raise BadInputError(f"{path}:1: no {', '.join(missing)} column (header: {header})")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as e:
                raise BadInputError(f"{path}:{reader.line_num}: unreadable row ({e})") from None
            where = f"{path}:{reader.line_num}"
            try:
                drawing = json.loads(row["drawing"] or "")
            except json.JSONDecodeError as e:
                raise BadInputError(f"{where}: the drawing field is not JSON ({e.msg})") from None
            except RecursionError:
                raise BadInputError(f"{where}: the drawing field is nested too deeply") from None
            check_drawing(drawing, where)
            recognized = (row.get("recognized") or "").strip().lower()
            if recognized not in ("", "true", "false"):
                raise BadInputError(f"{where}: recognized must be True or False, got {row['recognized']!r}")
            rec = {"word": row.get("word") or word, "key_id": str(row["key_id"]),
                   "countrycode": row.get("countrycode") or "", "recognized": recognized != "false",
                   "drawing": drawing}
            if row.get("timestamp"):
                rec["timestamp"] = row["timestamp"]
            yield where, rec


def category_files(folder: str | Path, format: str | None = None) -> dict[str, tuple[Path, str]]:
    """A folder's categories: name -> (file, format), sorted by name. A folder may mix formats,
    but a category may have only one file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(f"{folder}: no such data folder")
    if format is not None and format not in FORMATS:
        raise BadInputError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    found: dict[str, tuple[Path, str]] = {}
    for p in sorted(folder.iterdir()):
        kinds = SUFFIXES.get(p.suffix.lower())
        if kinds is None or not p.is_file() or p.name.startswith("."):
            continue
        if format is not None and format not in kinds:
            continue
        if p.stem in found:
            raise BadInputError(f"{folder}: two files for category {p.stem!r}: {found[p.stem][0].name} and {p.name}")
        found[p.stem] = (p, format or format_of(p))
    if not found:
        want = f"{format} files" if format else "Quick, Draw! files (" + ", ".join(f"*{s}" for s in SUFFIXES) + ")"
        raise BadInputError(f"{folder}: no {want} in this folder")
    return dict(sorted(found.items()))
