"""The Quick, Draw! reader: real files, options, malformed lines, and a stable split."""

import json
import random
import shutil

import pytest

from inkcast.runtime.errors import BadInputError
from inkcast.data.quickdraw import QuickDrawOptions, list_categories, load_quickdraw, split_of


def test_reads_every_category_of_the_real_folder(quickdraw_dir):
    ds = load_quickdraw(quickdraw_dir, QuickDrawOptions(max_per_category=200))
    assert ds.categories == ["apple", "candle", "eyeglasses", "fork", "star"]
    total = sum(len(ds[s]) for s in ("train", "validation", "test"))
    assert total == 1000
    for s in ("train", "validation", "test"):
        assert set(ds[s].labels) == {0, 1, 2, 3, 4}
        assert all(f.ndim == 2 and f.shape[1] == 3 for f in ds[s].features)


def test_split_is_about_80_10_10_and_depends_only_on_key_id(quickdraw_dir):
    ds = load_quickdraw(quickdraw_dir, QuickDrawOptions(categories=("apple",)))
    n = 4000
    assert abs(len(ds["train"]) / n - 0.8) < 0.03
    assert abs(len(ds["test"]) / n - 0.1) < 0.02
    assert all(split_of(k) == "test" for k in ds["test"].key_ids)


def test_split_survives_reordering_and_growth(quickdraw_dir, tmp_path):
    lines = (quickdraw_dir / "fork.ndjson").read_text().splitlines()[:400]
    small, big = tmp_path / "small", tmp_path / "big"
    small.mkdir(), big.mkdir()
    (small / "fork.ndjson").write_text("\n".join(lines[:300]) + "\n")
    shuffled = lines[:]
    random.Random(1).shuffle(shuffled)
    (big / "fork.ndjson").write_text("\n".join(shuffled) + "\n")
    a, b = load_quickdraw(small), load_quickdraw(big)
    for s in ("train", "validation", "test"):
        assert set(a[s].key_ids) <= set(b[s].key_ids)
        assert set(a[s].key_ids).isdisjoint(set().union(*(b[t].key_ids for t in ("train", "validation", "test") if t != s)))


def test_options_cap_recognized_and_names_with_spaces(quickdraw_dir, tmp_path):
    lines = (quickdraw_dir / "apple.ndjson").read_text().splitlines()[:300]
    (tmp_path / "hot air balloon.ndjson").write_text("\n".join(lines) + "\n")
    (tmp_path / "star.ndjson").write_text((quickdraw_dir / "star.ndjson").read_text().splitlines()[0] + "\n")
    assert list_categories(tmp_path) == ["hot air balloon", "star"]
    ds = load_quickdraw(tmp_path, QuickDrawOptions(categories=("hot air balloon",), recognized_only=True))
    unrecognized = sum(1 for line in lines if json.loads(line)["recognized"] is False)
    assert unrecognized > 0
    assert sum(len(ds[s]) for s in ("train", "validation", "test")) == 300 - unrecognized
    capped = load_quickdraw(tmp_path, QuickDrawOptions(max_per_category=50))
    assert sum(len(capped[s]) for s in ("train", "validation", "test")) == 51


@pytest.mark.parametrize("bad_line, message", [
    ('{"key_id": "1", "drawing": [[[1, 2], [3]]]}', r"broken\.ndjson:3: bad drawing: stroke 0: x has 2 values but y has 1"),
    ('{"key_id": "1", "drawing": [[[1, 2], [3, 4]]', r"broken\.ndjson:3: not valid JSON"),
    ('{"key_id": "1"}', r"broken\.ndjson:3: the record has no 'drawing' field"),
    ('[1, 2, 3]', r"broken\.ndjson:3: expected a JSON object"),
    ('{"key_id": "1", "drawing": []}', r"broken\.ndjson:3: the drawing must be a non-empty list of strokes"),
])
def test_a_malformed_line_is_reported_with_file_and_line(quickdraw_dir, tmp_path, bad_line, message):
    good = (quickdraw_dir / "candle.ndjson").read_text().splitlines()[:2]
    (tmp_path / "broken.ndjson").write_text("\n".join(good + [bad_line]) + "\n")
    with pytest.raises(BadInputError, match=message):
        load_quickdraw(tmp_path)


def test_missing_folder_category_or_files(tmp_path, quickdraw_dir):
    with pytest.raises(BadInputError, match="no such data folder"):
        load_quickdraw(tmp_path / "nope")
    with pytest.raises(BadInputError, match=r"no Quick, Draw! files \(\*\.ndjson"):
        load_quickdraw(tmp_path)
    with pytest.raises(BadInputError, match="no file for categories"):
        load_quickdraw(quickdraw_dir, QuickDrawOptions(categories=("unicorn",)))
