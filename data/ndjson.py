"""The one ndjson reader: a JSON value per line, each malformed line refused naming file:line.

Quick, Draw! files are ndjson (one record per line). Every command that reads them (training,
evaluate, predict, bench, the experiments) goes through here, so they refuse the same things with
the same messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from inkcast.runtime.errors import BadInputError

# The longest line read: Google's longest raw drawing is well under 1 MiB. A longer line (a file
# that is not ndjson, or a runaway record) is refused after reading at most this much of it.
MAX_LINE_BYTES = 16 << 20


def iter_raw_lines(path: str | Path, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, bytes) for each non-blank line of ``path``, unparsed; a line
    longer than ``max_line_bytes`` raises ``BadInputError`` after reading at most that much of it."""
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as e:
        raise BadInputError(f"{path}: cannot open ({e.strerror})") from None
    with f:
        lineno = 0
        while True:
            at = f.tell()
            raw = f.readline(max_line_bytes + 1)
            if not raw:
                return
            lineno += 1
            if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
                raise BadInputError(f"{path}:{lineno}: the line is longer than {max_line_bytes:,} bytes "
                                    "(not a Quick, Draw! record)")
            if raw.strip():
                yield lineno, at, raw


def parse_line(path: str | Path, lineno: int, raw: bytes) -> Any:
    """One line's JSON value; bytes that are not UTF-8, invalid JSON or JSON nested too deeply
    raise ``BadInputError`` naming file:line."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError(f"{path}:{lineno}: not UTF-8 text") from None
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise BadInputError(f"{path}:{lineno}: not valid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise BadInputError(f"{path}:{lineno}: the JSON is nested too deeply") from None


def iter_lines(path: str | Path, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON value) for each non-blank line of ``path``.

    Memory stays bounded by ``max_line_bytes``: a longer line, bytes that are not UTF-8, JSON
    that is invalid or nested too deeply raise ``BadInputError`` naming file:line."""
    for lineno, _, raw in iter_raw_lines(path, max_line_bytes):
        yield lineno, parse_line(path, lineno, raw)


def record_of(value: Any, where: str, word: str) -> dict:
    """One parsed line -> a Quick, Draw! record: an object with ``key_id`` (returned as a string:
    Google writes it as one, some copies as a number) and ``drawing`` (a non-empty list of
    strokes, each a list: the values are checked where the drawing is used, by the preprocessing
    contract, which names the stroke and point); ``word`` defaults to the category given."""
    if not isinstance(value, dict):
        raise BadInputError(f"{where}: expected a JSON object, got {type(value).__name__}")
    for key in ("key_id", "drawing"):
        if key not in value:
            raise BadInputError(f"{where}: the record has no {key!r} field")
    check_drawing(value["drawing"], where)
    value["key_id"] = str(value["key_id"])
    value.setdefault("word", word)
    return value


def check_drawing(drawing: Any, where: str) -> None:
    """The shape every reader promises: a non-empty list of strokes, each a list."""
    if not isinstance(drawing, list) or not drawing or not all(isinstance(s, list) for s in drawing):
        raise BadInputError(f"{where}: the drawing must be a non-empty list of strokes, got {json.dumps(drawing)[:60]}")


def iter_records(path: str | Path, recognized_only: bool = False) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each Quick, Draw! record of an ndjson file (``record_of``)."""
    for lineno, value in iter_lines(path):
        rec = record_of(value, f"{path}:{lineno}", Path(path).stem)
        if not (recognized_only and rec.get("recognized") is False):
            yield lineno, rec


def iter_drawings(path: str | Path) -> Iterator[tuple[int, dict, Any]]:
    """(line number, record, drawing) for files of records or of bare drawings (``predict`` input).

    A line may be a Quick, Draw! record (its ``drawing`` field is used) or a drawing itself."""
    for lineno, rec in iter_lines(path):
        if isinstance(rec, dict):
            if "drawing" not in rec:
                raise BadInputError(f"{path}:{lineno}: the record has no 'drawing' field")
            yield lineno, rec, rec["drawing"]
        else:
            yield lineno, {}, rec
