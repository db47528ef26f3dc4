"""The CSV series reader: the real CTA file (unsorted, duplicated) and every refusal, by line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from inkcast.runtime.errors import BadInputError
from inkcast.data.series_csv import read_series



def write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


HEADER = "service_date,day_type,bus,rail_boardings,total_rides\n"
COLUMNS = ("service_date", "rail_boardings")  # the Chicago ridership file's date and value columns


def test_real_file_is_deduplicated_sorted_and_gap_free(cta_csv):
    s = read_series(cta_csv, *COLUMNS)
    assert len(s) == 7639 and s.duplicates_dropped == 62
    assert s.start == dt.date(2001, 1, 1) and s.end == dt.date(2021, 11, 30)
    assert s.date_format == "%m/%d/%Y"
    assert np.all(np.diff(s.dates).astype(int) == 1)  # consecutive days, ascending
    assert not s.filled
    # first data line of the file is 01/01/2001 with rail_boardings 126455
    assert s.values[0] == 126455 and s.lines[0] == 2
    # every value came from a real line, and lines are file positions (the file is unsorted)
    assert s.lines.min() >= 2 and len(set(s.lines.tolist())) == len(s)
    assert not np.all(np.diff(s.lines) > 0)
    bus = read_series(cta_csv, "service_date", "bus")
    assert bus.values[0] == 297192


def test_unsorted_rows_and_exact_duplicates(tmp_path):
    p = write(tmp_path, HEADER + "01/03/2019,W,1,30,31\n01/01/2019,U,1,10,11\n"
              "01/03/2019,W,1,30,31\n01/02/2019,W,1,20,21\n")
    s = read_series(p, *COLUMNS)
    np.testing.assert_array_equal(s.values, [10, 20, 30])
    assert s.dates[0] == np.datetime64("2019-01-01") and s.duplicates_dropped == 1
    np.testing.assert_array_equal(s.lines, [3, 5, 2])


def test_conflicting_duplicate_names_both_lines(tmp_path):
    p = write(tmp_path, HEADER + "01/01/2019,U,1,10,11\n01/02/2019,W,1,20,21\n01/02/2019,W,1,25,26\n")
    with pytest.raises(BadInputError, match=r"s\.csv, line 4: conflicting duplicate: 2019-01-02 .*'25'.*'20' on line 3"):
        read_series(p, *COLUMNS)


def test_gap_is_refused_with_its_dates_and_lines(tmp_path):
    p = write(tmp_path, HEADER + "01/01/2019,U,1,10,11\n01/02/2019,W,1,20,21\n01/05/2019,W,1,50,51\n")
    with pytest.raises(BadInputError) as e:
        read_series(p, *COLUMNS)
    msg = str(e.value)
    assert "line 4" in msg and "2019-01-03..2019-01-04 (2 day(s))" in msg and "line 3" in msg
    assert "fill policy" in msg


@pytest.mark.parametrize("policy, expected", [
    ("interpolate", [10, 20, 30, 40, 50]),
    ("ffill", [10, 20, 20, 20, 50]),
    ("zero", [10, 20, 0, 0, 50]),
])
def test_fill_policies(tmp_path, policy, expected):
    p = write(tmp_path, HEADER + "01/01/2019,U,1,10,11\n01/02/2019,W,1,20,21\n01/05/2019,W,1,50,51\n")
    s = read_series(p, *COLUMNS, fill=policy)
    np.testing.assert_allclose(s.values, expected)
    assert s.filled == ["2019-01-03", "2019-01-04"]
    np.testing.assert_array_equal(s.lines, [2, 3, 0, 0, 4])


def test_unknown_fill_policy(tmp_path):
    p = write(tmp_path, HEADER + "01/01/2019,U,1,10,11\n")
    with pytest.raises(BadInputError, match="unknown fill policy 'mean'; choose one of interpolate, ffill, zero"):
        read_series(p, *COLUMNS, fill="mean")


@pytest.mark.parametrize("cell, why", [
    ("", "missing"),
    ("abc", "not a finite number"),
    ("NaN", "not a finite number"),
    ("inf", "not a finite number"),
    ("1_000", "not a finite number"),
])
def test_bad_values_name_the_line(tmp_path, cell, why):
    p = write(tmp_path, HEADER + f"01/01/2019,U,1,10,11\n01/02/2019,W,1,{cell},21\n")
    with pytest.raises(BadInputError, match=rf"s\.csv, line 3: .*{why}"):
        read_series(p, *COLUMNS)


def test_short_row_is_a_missing_value(tmp_path):
    p = write(tmp_path, HEADER + "01/01/2019,U,1,10,11\n01/02/2019,W\n")
    with pytest.raises(BadInputError, match=r"line 3: the value \('rail_boardings'\) is missing"):
        read_series(p, *COLUMNS)


def test_unknown_columns_list_the_available_ones(tmp_path):
    p = write(tmp_path, HEADER + "01/01/2019,U,1,10,11\n")
    with pytest.raises(BadInputError, match=r"no value column 'rides'; the file's columns are: 'service_date', "
                                            r"'day_type', 'bus', 'rail_boardings', 'total_rides'"):
        read_series(p, "service_date", "rides")
    with pytest.raises(BadInputError, match="no date column 'date'"):
        read_series(p, "date", "rail_boardings")


def test_bad_dates(tmp_path):
    p = write(tmp_path, HEADER + "01/01/2019,U,1,10,11\n2019-01-02,W,1,20,21\n")
    with pytest.raises(BadInputError, match=r"line 3: date '2019-01-02' does not match the format of the earlier rows"):
        read_series(p, *COLUMNS)
    p = write(tmp_path, HEADER + "yesterday,U,1,10,11\n")
    with pytest.raises(BadInputError, match=r"line 2: 'yesterday' is not a date in any known format"):
        read_series(p, *COLUMNS)
    p = write(tmp_path, HEADER + "2019-01-01,U,1,10,11\n01/02/2019,W,1,20,21\n")
    with pytest.raises(BadInputError, match=r"line 3: '01/02/2019' is not a date in the format '%Y-%m-%d'"):
        read_series(p, *COLUMNS, date_format="%Y-%m-%d")


def test_date_formats_are_detected_or_given(tmp_path):
    p = write(tmp_path, "day;x\n".replace(";", ",") + "2019-03-01,5\n2019-02-28,4\n")
    s = read_series(p, date_column="day", value_column="x")
    assert s.date_format == "%Y-%m-%d" and s.start == dt.date(2019, 2, 28) and list(s.values) == [4, 5]
    # 13/01 can only be day/month: the file decides between %d/%m/%Y and %m/%d/%Y
    p = write(tmp_path, "d,v\n12/01/2019,1\n13/01/2019,2\n")
    assert read_series(p, "d", "v").date_format == "%d/%m/%Y"
    # all days <= 12: the order that reads consecutive days wins (not one a month apart)
    p = write(tmp_path, "d,v\n01/02/2019,1\n02/02/2019,2\n")
    s = read_series(p, "d", "v")
    assert s.date_format == "%d/%m/%Y" and s.start == dt.date(2019, 2, 1) and len(s) == 2
    p = write(tmp_path, "d,v\n02/01/2019,1\n02/02/2019,2\n")
    assert read_series(p, "d", "v").date_format == "%m/%d/%Y"
    # one date read both ways as two different days: a true tie, so the caller must say which
    p = write(tmp_path, "d,v\n03/04/2019,1\n")
    with pytest.raises(BadInputError, match="ambiguous: they parse as %m/%d/%Y and as %d/%m/%Y; give the date format"):
        read_series(p, "d", "v")
    assert read_series(p, "d", "v", date_format="%d/%m/%Y").start == dt.date(2019, 4, 3)
    # the Chicago portal's own export format, with a time of day
    p = write(tmp_path, "d,v\n01/01/2019 12:00:00 AM,1\n01/02/2019 12:00:00 AM,2\n")
    assert read_series(p, "d", "v").date_format == "%m/%d/%Y %I:%M:%S %p"


def test_unreadable_files(tmp_path):
    with pytest.raises(BadInputError, match="no such file"):
        read_series(tmp_path / "missing.csv", *COLUMNS)
    with pytest.raises(BadInputError, match="the file is empty"):
        read_series(write(tmp_path, "\n\n"), *COLUMNS)
    with pytest.raises(BadInputError, match="header but no data rows"):
        read_series(write(tmp_path, HEADER), *COLUMNS)
    p = tmp_path / "bin.csv"
    p.write_bytes(b"service_date,rail_boardings\n\xff\xfe\x00,1\n")
    with pytest.raises(BadInputError, match="not a UTF-8 text file"):
        read_series(p, *COLUMNS)


def test_columns_are_found_when_unambiguous(tmp_path):
    p = tmp_path / "temps.csv"
    p.write_text("station,day,temp\nA,2020-01-01,2.5\nA,2020-01-02,3.5\nA,2020-01-03,1.0\n")
    s = read_series(p)
    assert (s.date_column, s.value_column) == ("day", "temp") and s.values.tolist() == [2.5, 3.5, 1.0]


def test_ambiguous_columns_are_refused_naming_the_candidates(cta_csv, tmp_path):
    with pytest.raises(BadInputError, match=r"several columns could be the value: 'bus', 'rail_boardings', "
                                            r"'total_rides'; name it \(--value-column\)"):
        read_series(cta_csv)
    assert read_series(cta_csv, value_column="bus").date_column == "service_date"
    p = tmp_path / "nodate.csv"
    p.write_text("a,b\nx,1\ny,2\n")
    with pytest.raises(BadInputError, match=r"no column looks like a date; name it \(--date-column\)"):
        read_series(p)
