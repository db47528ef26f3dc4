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


def iter_raw_lines(path: str | Path, max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) for each non-blank line of ``path``, unparsed; a line longer than
    ``max_line_bytes`` raises ``BadInputError`` after reading at most that much of it."""
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as e:
        raise BadInputError(f"{path}: cannot open ({e.strerror})") from None
    with f:
        lineno = 0
        while True:
            raw = f.readline(max_line_bytes + 1)
            if not raw:
                return
            lineno += 1
            if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
                raise BadInputError(f"{path}:{lineno}: the line is longer than {max_line_bytes:,} bytes "
                                    "(not a Quick, Draw! record)")
            if raw.strip():
                yield lineno, raw


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
    for lineno, raw in iter_raw_lines(path, max_line_bytes):
        yield lineno, parse_line(path, lineno, raw)


def iter_records(path: str | Path, required: tuple[str, ...] = ("key_id", "drawing"),
                 recognized_only: bool = False) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each Quick, Draw! record; each must be an object with ``required``.

    ``key_id`` is returned as a string (Google writes it as a string, some copies as a number)."""
    for lineno, rec in iter_lines(path):
        if not isinstance(rec, dict):
            raise BadInputError(f"{path}:{lineno}: expected a JSON object, got {type(rec).__name__}")
        for key in required:
            if key not in rec:
                raise BadInputError(f"{path}:{lineno}: the record has no {key!r} field")
        if recognized_only and rec.get("recognized") is False:
            continue
        if "key_id" in rec:
            rec["key_id"] = str(rec["key_id"])
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
