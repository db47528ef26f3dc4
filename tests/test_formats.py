"""Every Quick, Draw! format: real files where they exist (simplified and raw ndjson, sketch-rnn
npz), files written in the documented layout where they do not (binary, Kaggle CSV)."""

from __future__ import annotations

import io
import pickle
import shutil
import zipfile

import numpy as np
import pytest

from inkcast.data.formats import category_files, format_of, read_file, stroke3_to_drawing
from inkcast.data.quickdraw import QuickDrawOptions, load_quickdraw
from inkcast.runtime.errors import BadInputError

from tests.quickdraw_files import read_ndjson, unix_seconds, write_binary, write_kaggle_csv


@pytest.fixture(scope="module")
def candles(quickdraw_dir):
    return read_ndjson(quickdraw_dir / "candle.ndjson", limit=300)


def test_binary_file_in_googles_layout_reads_back_every_field(candles, tmp_path):
    write_binary(candles, tmp_path / "candle.bin")
    assert format_of(tmp_path / "candle.bin") == "binary"
    got = [r for _, r in read_file(tmp_path / "candle.bin")]
    assert len(got) == len(candles)
    for want, r in zip(candles, got):
        assert r["drawing"] == want["drawing"]
        assert (r["key_id"], r["countrycode"], r["recognized"]) == (want["key_id"], want["countrycode"], want["recognized"])
        assert r["timestamp"] == unix_seconds(want["timestamp"]) and r["word"] == "candle"


def test_kaggle_csv_reads_back_every_field(candles, tmp_path):
    write_kaggle_csv(candles, tmp_path / "candle.csv")
    got = [r for _, r in read_file(tmp_path / "candle.csv")]
    assert [r["drawing"] for r in got] == [r["drawing"] for r in candles]
    assert [(r["key_id"], r["recognized"], r["word"]) for r in got] == \
        [(r["key_id"], r["recognized"], r["word"]) for r in candles]


def test_every_format_of_the_same_drawings_trains_on_the_same_rows(quickdraw_dir, tmp_path):
    """simplified ndjson, binary and Kaggle CSV of the same drawings give identical model rows
    and splits; a folder may mix formats."""
    per = {c: read_ndjson(quickdraw_dir / f"{c}.ndjson", limit=150) for c in ("apple", "fork", "star")}
    ref = tmp_path / "ndjson"
    mixed = tmp_path / "mixed"
    ref.mkdir()
    mixed.mkdir()
    for c in per:
        shutil.copy(quickdraw_dir / f"{c}.ndjson", ref / f"{c}.ndjson")
    write_binary(per["apple"], mixed / "apple.bin")
    write_kaggle_csv(per["fork"], mixed / "fork.csv")
    shutil.copy(quickdraw_dir / "star.ndjson", mixed / "star.ndjson")
    assert {k: v[1] for k, v in category_files(mixed).items()} == {"apple": "binary", "fork": "csv", "star": "simplified"}
    o = QuickDrawOptions(max_per_category=150)
    a, b = load_quickdraw(ref, o), load_quickdraw(mixed, o)
    assert a.categories == b.categories
    for s in ("train", "validation", "test"):
        assert a[s].key_ids == b[s].key_ids and a[s].labels == b[s].labels
        assert all(np.array_equal(x, y) for x, y in zip(a[s].features, b[s].features))


def test_raw_reader_matches_googles_own_simplification(data_dir):
    """Google's raw drawings paired with Google's simplified ones (same key_id): the raw reader's
    simplification gives Google's drawing exactly on at least 94 % of the pairs."""
    raw_dir, simple_dir = data_dir / "quickdraw-raw" / "raw", data_dir / "quickdraw-raw" / "simplified"
    same = total = 0
    for cat, (path, fmt) in category_files(raw_dir).items():
        assert fmt == "raw"
        google = {r["key_id"]: r["drawing"] for _, r in read_file(simple_dir / f"{cat}.ndjson")}
        for _, rec in read_file(path):
            if rec["key_id"] in google:
                total += 1
                same += rec["drawing"] == google[rec["key_id"]]
    assert total >= 3800
    print(f"raw reader == Google's simplified drawing on {same}/{total} pairs ({same / total:.2%})")
    assert same / total >= 0.94


def test_raw_folder_trains_directly(data_dir):
    """Names with spaces and capitals, raw screen pixels: read, simplified, split."""
    o = QuickDrawOptions(categories=("The Eiffel Tower", "The Mona Lisa", "animal migration"))
    ds = load_quickdraw(data_dir / "quickdraw-raw" / "raw", o)
    assert ds.categories == list(o.categories)
    assert sum(len(ds[s]) for s in ("train", "validation", "test")) > 50
    assert max(float(p[:, :2].max()) for p in ds["train"].points) <= 255


def test_sketch_rnn_npz_with_its_own_split(data_dir):
    path = data_dir / "sketch-rnn" / "aaron_sheep.npz"
    assert format_of(path) == "npz"
    recs = [r for _, r in read_file(path)]
    assert [sum(r["split"] == s for r in recs) for s in ("train", "validation", "test")] == [7400, 300, 300]
    z = np.load(path, allow_pickle=True, encoding="latin1")  # the reference reader, on a trusted file
    for i in (0, 17, 4242):
        s3 = z["train"][i]
        d = recs[i]["drawing"]
        assert len(d) == max(1, int(s3[:, 2].sum()) + (s3[-1, 2] == 0))  # strokes end where the pen lifts
        assert sum(len(x) for x, _ in d) == len(s3)
        assert all(0 <= v <= 255 for x, y in d for v in x + y)
    folder = path.parent
    ds = load_quickdraw(folder, QuickDrawOptions(split_by="source"))
    assert [len(ds[s]) for s in ("train", "validation", "test")] == [7400, 300, 300]


def test_stroke3_shape_is_kept_up_to_scale():
    s3 = np.array([[10, 0, 0], [0, 10, 1], [5, -5, 0], [10, 0, 1]], np.int16)
    assert stroke3_to_drawing(s3, "x") == [[[0, 0], [0, 10]], [[5, 15], [5, 5]]]  # moved to start at 0
    big = np.array([[0, 0, 0], [1000, 500, 1]], np.int16)
    assert stroke3_to_drawing(big, "x") == [[[0, 255], [0, 128]]]


class _Boom:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


def test_npz_with_code_in_its_pickle_is_refused(tmp_path):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    pickle.dump(np.array([_Boom()], dtype=object), buf, protocol=3)
    with zipfile.ZipFile(tmp_path / "evil.npz", "w") as z:
        z.writestr("train.npy", buf.getvalue())
    with pytest.raises(BadInputError, match=r"evil\.npz: train\.npy is not a readable array .*os.*system.* not allowed"):
        list(read_file(tmp_path / "evil.npz"))


def test_malformed_files_are_refused_naming_file_and_record(candles, tmp_path):
    write_binary(candles[:3], tmp_path / "cut.bin")
    data = (tmp_path / "cut.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:-5])
    with pytest.raises(BadInputError, match=r"cut\.bin: record 3 \(byte \d+\): stroke \d+ claims \d+ points but the file ends"):
        list(read_file(tmp_path / "cut.bin"))
    (tmp_path / "head.bin").write_bytes(data[:10])
    with pytest.raises(BadInputError, match=r"head\.bin: record 1 \(byte 0\): the file ends inside the record's header"):
        list(read_file(tmp_path / "head.bin"))

    write_kaggle_csv(candles[:3], tmp_path / "bad.csv")
    lines = (tmp_path / "bad.csv").read_text().splitlines()
    lines[2] = lines[2].replace("[[[", "[[(", 1)
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(BadInputError, match=r"bad\.csv:3: the drawing field is not JSON"):
        list(read_file(tmp_path / "bad.csv"))
    (tmp_path / "nohead.csv").write_text("a,b\n1,2\n")
    with pytest.raises(BadInputError, match=r"nohead\.csv:1: no drawing, key_id column"):
        list(read_file(tmp_path / "nohead.csv"))

    drawings = np.empty(1, dtype=object)
    drawings[0] = np.array([[1, 2, 7]], np.int16)
    np.savez(tmp_path / "pen.npz", train=drawings)
    with pytest.raises(BadInputError, match=r"pen\.npz: train\[0\]: pen_lifted must be 0 or 1"):
        list(read_file(tmp_path / "pen.npz"))
    (tmp_path / "raw.ndjson").write_text('{"key_id": 1, "drawing": [[[0, 1.5], [0, 2], [0, 10]]]}\n'
                                         '{"key_id": 2, "drawing": [[[0, 1.5], [0], [0, 10]]]}\n')
    with pytest.raises(BadInputError, match=r"raw\.ndjson:2: bad raw drawing: stroke 0"):
        list(read_file(tmp_path / "raw.ndjson"))


def test_one_category_two_files_and_unknown_format_are_refused(candles, tmp_path):
    write_binary(candles[:2], tmp_path / "candle.bin")
    write_kaggle_csv(candles[:2], tmp_path / "candle.csv")
    with pytest.raises(BadInputError, match="two files for category 'candle'"):
        category_files(tmp_path)
    assert list(category_files(tmp_path, "binary")) == ["candle"]
    with pytest.raises(BadInputError, match="unknown format 'tfrecord'"):
        category_files(tmp_path, "tfrecord")
