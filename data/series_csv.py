"""Reading one daily series (a date column and a numeric column) from any CSV file.

Real exports are messy: rows out of order, repeated rows, days missing, blank cells. This reader
turns a file into one gap-free daily series, or refuses it with a ``BadInputError`` that names the
file and the line, never with a parser traceback:

* rows are sorted by date; rows repeating an earlier row's date *and* value are dropped (the CTA
  file has 62 such exact duplicates); the same date with a different value is a conflict;
* a missing day is an error unless a ``fill`` policy is given ("interpolate", "ffill", "zero");
* a blank, non-numeric, NaN or infinite value is an error naming its line;
* an unknown column name is an error listing the columns the file has;
* the date format is detected among common formats (all rows must agree on one; day/month order
  is decided by the rows, or by which order makes a compact daily series), or given.

Standard library and NumPy only (no pandas, no TensorFlow), so that ``inkcast forecast`` reads a
CSV on a device without the training stack, and training reads it with the very same code. Which
columns to read is the caller's choice (dataset defaults live in the training options).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inkcast.runtime.errors import BadInputError

FILL_POLICIES = ("interpolate", "ffill", "zero")

# Tried in this order; a file must match exactly one (else the caller is asked to give one).
DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%m-%d-%Y",
    "%d-%m-%Y",
    "%Y%m%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",  # the City of Chicago portal's own export format
    "%m/%d/%Y %H:%M",
)


@dataclass
class Series:
    """A gap-free daily series: ``dates[i]`` is ``start + i`` days, ``values[i]`` its value.

    ``lines[i]`` is the 1-based line of the file the value came from (0 for a filled day), so
    later checks can still point at the file.
    """

    path: str
    date_column: str
    value_column: str
    date_format: str
    dates: np.ndarray  # datetime64[D]
    values: np.ndarray  # float64
    lines: np.ndarray  # int64
    duplicates_dropped: int = 0
    filled: list[str] = field(default_factory=list)  # ISO dates filled by the fill policy

    def __len__(self) -> int:
        return len(self.values)

    @property
    def start(self) -> dt.date:
        return self.dates[0].astype(dt.date)

    @property
    def end(self) -> dt.date:
        return self.dates[-1].astype(dt.date)

    def index_of(self, day: dt.date | str) -> int:
        """The index of a calendar day (which may lie outside the series: negative or >= len)."""
        d = np.datetime64(day if isinstance(day, str) else day.isoformat(), "D")
        return int((d - self.dates[0]).astype(np.int64))


def _parse_date(text: str, fmt: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def _parse_value(text: str) -> float | None:
    try:
        v = float(text.replace("_", "x"))  # float() accepts "1_000"; a CSV cell should not
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _csv_rows(path: Path):
    """(line, row) for each non-blank row of a CSV file; unreadable files raise BadInputError."""
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            for row in reader:
                if row and any(c.strip() for c in row):  # blank lines carry no data
                    yield reader.line_num, row
    except UnicodeDecodeError as e:
        raise BadInputError(f"{path}: not a UTF-8 text file ({e.reason} at byte {e.start})") from None
    except csv.Error as e:
        raise BadInputError(f"{path}: not a readable CSV file ({e})") from None


def _open_rows(path: Path):
    """(header, [(line, row), ...]) of a CSV file."""
    rows = list(_csv_rows(path))
    if not rows:
        raise BadInputError(f"{path}: the file is empty (no header line)")
    return [c.strip() for c in rows[0][1]], rows[1:]


def read_header(path: str | Path) -> list[str]:
    """The column names of a CSV file (its first non-blank line), without reading the rest."""
    path = Path(path)
    for _, row in _csv_rows(path):
        return [c.strip() for c in row]
    raise BadInputError(f"{path}: the file is empty (no header line)")


SAMPLE_ROWS = 50  # rows looked at to find the date and value columns


def find_columns(path: Path, header: list[str], rows: list[tuple[int, list[str]]]) -> tuple[list[str], list[str]]:
    """(date-like columns, numeric columns) of a file, judged on its first ``SAMPLE_ROWS`` rows:
    a column whose every non-empty cell there parses as a date in one known format, or as a
    finite number (a date-like column does not count as numeric)."""
    sample = [row for _, row in rows[:SAMPLE_ROWS]]
    dates, numbers = [], []
    for i, name in enumerate(header):
        cells = [r[i].strip() for r in sample if i < len(r) and r[i].strip()]
        if not cells:
            continue
        if any(all(_parse_date(c, f) is not None for c in cells) for f in DATE_FORMATS):
            dates.append(name)
        elif all(_parse_value(c) is not None for c in cells):
            numbers.append(name)
    return dates, numbers


def _pick(path: Path, header: list[str], found: list[str], role: str, flag: str) -> str:
    if len(found) == 1:
        return found[0]
    what = f"no column looks like a {role}" if not found else f"several columns could be the {role}: " + \
        ", ".join(repr(c) for c in found)
    raise BadInputError(f"{path}: {what}; name it ({flag}). The file's columns are: "
                        f"{', '.join(repr(h) for h in header)}")


def _column(path: Path, header: list[str], name: str, role: str) -> int:
    if name not in header:
        raise BadInputError(
            f"{path}: no {role} column {name!r}; the file's columns are: {', '.join(repr(h) for h in header)}"
        )
    return header.index(name)


def _detect_format(path: Path, texts: list[tuple[int, str]]) -> str:
    """The format in DATE_FORMATS that parses every date; refuse if none does.

    When several do (e.g. ``%m/%d/%Y`` and ``%d/%m/%Y`` while every day is <= 12), the one whose
    dates span the fewest days wins: a daily series read with the wrong day/month order jumps by
    months. If they read the very same dates, the choice does not matter; a true tie is refused.
    """
    candidates = list(DATE_FORMATS)
    for line, text in texts:
        matching = [f for f in candidates if _parse_date(text, f) is not None]
        if not matching:
            if len(candidates) == len(DATE_FORMATS):
                raise BadInputError(f"{path}, line {line}: {text!r} is not a date in any known format")
            raise BadInputError(
                f"{path}, line {line}: date {text!r} does not match the format of the earlier rows "
                f"({' or '.join(candidates)})"
            )
        candidates = matching
    if len(candidates) == 1:
        return candidates[0]
    parsed = {f: [_parse_date(t, f) for _, t in texts] for f in candidates}
    if all(parsed[f] == parsed[candidates[0]] for f in candidates):
        return candidates[0]
    spans = {f: (max(d) - min(d)).days for f, d in parsed.items()}
    shortest = min(spans.values())
    best = [f for f in candidates if spans[f] == shortest]
    if len(best) > 1:
        raise BadInputError(
            f"{path}: the dates are ambiguous: they parse as {' and as '.join(best)}; give the date format"
        )
    return best[0]


def _fill(values: np.ndarray, known: np.ndarray, policy: str) -> np.ndarray:
    """Fill the days where ``known`` is False by the policy (the first and last day are known)."""
    out = values.copy()
    if policy == "zero":
        out[~known] = 0.0
    elif policy == "ffill":
        idx = np.where(known, np.arange(len(values)), 0)
        np.maximum.accumulate(idx, out=idx)
        out = values[idx]
    else:  # interpolate: linear in time between the neighbouring known days
        pos = np.arange(len(values))
        out[~known] = np.interp(pos[~known], pos[known], values[known])
    return out


def read_series(
    path: str | Path,
    date_column: str | None = None,
    value_column: str | None = None,
    date_format: str | None = None,
    fill: str | None = None,
) -> Series:
    """Read a daily series from a CSV file (see the module doc for what is refused and why).

    A column given as None is found: the file's only date-like column, its only other numeric
    column; when there is none or more than one, the error lists the candidates."""
    path = Path(path)
    if fill is not None and fill not in FILL_POLICIES:
        raise BadInputError(f"unknown fill policy {fill!r}; choose one of {', '.join(FILL_POLICIES)}")
    header, rows = _open_rows(path)
    if date_column is None or value_column is None:
        dates, numbers = find_columns(path, header, rows)
        date_column = date_column or _pick(path, header, dates, "date", "--date-column")
        value_column = value_column or _pick(path, header, [c for c in numbers if c != date_column], "value",
                                             "--value-column")
    di = _column(path, header, date_column, "date")
    vi = _column(path, header, value_column, "value")
    if not rows:
        raise BadInputError(f"{path}: the file has a header but no data rows")

    cells: list[tuple[int, str, str]] = []
    for line, row in rows:
        d = row[di].strip() if di < len(row) else ""
        v = row[vi].strip() if vi < len(row) else ""
        if not d:
            raise BadInputError(f"{path}, line {line}: the date ({date_column!r}) is missing")
        if not v:
            raise BadInputError(f"{path}, line {line}: the value ({value_column!r}) is missing")
        cells.append((line, d, v))

    if date_format is None:
        date_format = _detect_format(path, [(line, d) for line, d, _ in cells])

    seen: dict[dt.date, tuple[int, float, str]] = {}
    dropped = 0
    for line, d, v in cells:
        day = _parse_date(d, date_format)
        if day is None:
            raise BadInputError(f"{path}, line {line}: {d!r} is not a date in the format {date_format!r}")
        value = _parse_value(v)
        if value is None:
            raise BadInputError(
                f"{path}, line {line}: the value {v!r} in column {value_column!r} is not a finite number"
            )
        if day in seen:
            first_line, first_value, first_text = seen[day]
            if first_value != value:
                raise BadInputError(
                    f"{path}, line {line}: conflicting duplicate: {day.isoformat()} has {value_column}={v!r} "
                    f"here but {first_text!r} on line {first_line}"
                )
            dropped += 1
            continue
        seen[day] = (line, value, v)

    days = sorted(seen)
    start = days[0]
    n = (days[-1] - start).days + 1
    values = np.zeros(n, dtype=np.float64)
    lines = np.zeros(n, dtype=np.int64)
    known = np.zeros(n, dtype=bool)
    for day in days:
        i = (day - start).days
        line, value, _ = seen[day]
        values[i], lines[i], known[i] = value, line, True

    filled: list[str] = []
    if not known.all():
        if fill is None:
            i = int(np.argmin(known))  # first missing day; i - 1 is known
            j = i + int(np.argmax(known[i:]))  # next known day
            first = start + dt.timedelta(days=i)
            last = start + dt.timedelta(days=j - 1)
            span = first.isoformat() if i == j - 1 else f"{first.isoformat()}..{last.isoformat()}"
            raise BadInputError(
                f"{path}, line {lines[j]}: gap in the dates: no row for {span} ({j - i} day(s)) "
                f"before this row ({(start + dt.timedelta(days=j)).isoformat()}); the previous day is on "
                f"line {lines[i - 1]}. {int((~known).sum())} day(s) are missing in all; "
                f"pass a fill policy ({', '.join(FILL_POLICIES)}) to fill them"
            )
        filled = [(start + dt.timedelta(days=int(i))).isoformat() for i in np.flatnonzero(~known)]
        values = _fill(values, known, fill)

    dates = np.datetime64(start.isoformat(), "D") + np.arange(n)
    return Series(
        path=str(path),
        date_column=date_column,
        value_column=value_column,
        date_format=date_format,
        dates=dates,
        values=values,
        lines=lines,
        duplicates_dropped=dropped,
        filled=filled,
    )
