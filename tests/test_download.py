"""``inkcast data download`` against a real HTTP server on 127.0.0.1 serving ../shared/data in
Google's bucket layout: whole files, interrupted transfers resumed with Range, 404 and 500."""

from __future__ import annotations

import io
import shutil

import pytest

from inkcast.data.download import (DownloadError, DownloadOptions, category_names, download, resolve_categories,
                                   url_of)
from inkcast.main import main

from tests.bucket_server import BucketServer, Faults, shared_bucket
from tests.quickdraw_files import read_ndjson, write_binary


def _opts(server, cats, fmt="simplified", **kw):
    return DownloadOptions(categories=tuple(cats), format=fmt, base_url=server.base_url, backoff_seconds=0.01,
                           timeout_seconds=10, chunk_bytes=64 << 10, **kw)


def test_the_345_names_ship_with_the_package(data_dir):
    names = category_names()
    assert len(names) == 345 and len(set(names)) == 345
    assert names == (data_dir / "quickdraw-categories.txt").read_text().split("\n")[:345]
    assert resolve_categories("all") == tuple(names)
    assert resolve_categories("cat, The Eiffel Tower") == ("cat", "The Eiffel Tower")
    with pytest.raises(Exception, match=r"'eifel tower' is not a Quick, Draw! category"):
        resolve_categories("cat,eifel tower")
    assert url_of("The Eiffel Tower", "raw", "http://h/b/") == "http://h/b/full/raw/The%20Eiffel%20Tower.ndjson"


def test_every_format_downloads_whole(data_dir, tmp_path):
    candles = read_ndjson(data_dir / "quickdraw" / "candle.ndjson", limit=100)
    write_binary(candles, tmp_path / "candle.bin")
    with BucketServer(shared_bucket(data_dir, {"full/binary/candle.bin": tmp_path / "candle.bin"})) as s:
        for fmt, cats, src in [
            ("simplified", ["apple", "star"], [data_dir / "quickdraw" / "apple.ndjson", data_dir / "quickdraw" / "star.ndjson"]),
            ("raw", ["The Eiffel Tower"], [data_dir / "quickdraw-raw" / "raw" / "The Eiffel Tower.ndjson"]),
            ("binary", ["candle"], [tmp_path / "candle.bin"]),
        ]:
            out = tmp_path / fmt
            got = download(_opts(s, cats, fmt, workers=2), out, stream=io.StringIO())
            assert [p.read_bytes() for p in got] == [p.read_bytes() for p in src]
            assert not (out / ".partial").exists()


def test_interrupted_transfer_is_resumed_with_range(data_dir, tmp_path):
    path = "full/simplified/apple.ndjson"
    size = (data_dir / "quickdraw" / "apple.ndjson").stat().st_size
    faults = Faults(cut_after={path: size // 3})
    with BucketServer(shared_bucket(data_dir), faults) as s:
        [got] = download(_opts(s, ["apple"]), tmp_path, stream=io.StringIO())
        ranges = [r for p, r in s.log if p == path]
    assert got.read_bytes() == (data_dir / "quickdraw" / "apple.ndjson").read_bytes()
    assert ranges[0] is None and ranges[1] == f"bytes={size // 3}-"  # the second request resumed


def test_a_partial_file_from_an_earlier_run_is_continued(data_dir, tmp_path):
    src = (data_dir / "quickdraw" / "star.ndjson").read_bytes()
    (tmp_path / ".partial").mkdir()
    (tmp_path / ".partial" / "star.ndjson.part").write_bytes(src[:1000])
    with BucketServer(shared_bucket(data_dir)) as s:
        download(_opts(s, ["star"]), tmp_path, stream=io.StringIO())
        assert s.log == [("full/simplified/star.ndjson", "bytes=1000-")]
    assert (tmp_path / "star.ndjson").read_bytes() == src


def test_a_server_that_ignores_range_still_gives_a_whole_file(data_dir, tmp_path):
    faults = Faults(cut_after={"full/simplified/fork.ndjson": 5000}, ignore_range=True)
    with BucketServer(shared_bucket(data_dir), faults) as s:
        download(_opts(s, ["fork"]), tmp_path, stream=io.StringIO())
    assert (tmp_path / "fork.ndjson").read_bytes() == (data_dir / "quickdraw" / "fork.ndjson").read_bytes()


def test_404_and_persistent_500_name_the_category_and_url(data_dir, tmp_path):
    faults = Faults(status={"full/simplified/star.ndjson": 500})
    with BucketServer(shared_bucket(data_dir), faults) as s:
        with pytest.raises(DownloadError) as e:
            download(_opts(s, ["apple", "cat", "star"], retries=2), tmp_path, stream=io.StringIO())
        msg = str(e.value)
        assert "2 of 3 files failed" in msg
        assert f"category 'cat': {s.base_url}/full/simplified/cat.ndjson: HTTP 404" in msg
        assert f"category 'star': {s.base_url}/full/simplified/star.ndjson: gave up after 3 attempts (last: HTTP 500" in msg
        assert sum(p == "full/simplified/star.ndjson" for p, _ in s.log) == 3
    assert (tmp_path / "apple.ndjson").is_file()  # the others finished
    assert not (tmp_path / "cat.ndjson").exists() and not (tmp_path / "star.ndjson").exists()


def test_transient_500s_are_retried(data_dir, tmp_path):
    faults = Faults(errors_before_ok={"full/simplified/apple.ndjson": 2})
    with BucketServer(shared_bucket(data_dir), faults) as s:
        download(_opts(s, ["apple"]), tmp_path, stream=io.StringIO())
    assert (tmp_path / "apple.ndjson").read_bytes() == (data_dir / "quickdraw" / "apple.ndjson").read_bytes()


def test_a_file_that_does_not_parse_is_never_taken_as_whole(data_dir, tmp_path):
    bad = tmp_path / "src" / "apple.ndjson"
    bad.parent.mkdir()
    bad.write_bytes((data_dir / "quickdraw" / "apple.ndjson").read_bytes()[:-40])  # the last line cut
    out = tmp_path / "out"
    with BucketServer({"full/simplified/apple.ndjson": bad}) as s:
        with pytest.raises(DownloadError, match=r"category 'apple': .*apple\.ndjson: the downloaded file is not valid "
                                                r"simplified data \(.*:4000: not valid JSON"):
            download(_opts(s, ["apple"]), out, stream=io.StringIO())
    assert not (out / "apple.ndjson").exists() and not list((out / ".partial").iterdir())


def test_cli_download_then_train_reads_it(data_dir, tmp_path, capsys):
    with BucketServer(shared_bucket(data_dir)) as s:
        rc = main(["data", "download", "--categories", "aaron_sheep", "--format", "npz", "--out", str(tmp_path),
                   "--base-url", s.base_url])
    assert rc == 2 and "'aaron_sheep' is not a Quick, Draw! category" in capsys.readouterr().err
    with BucketServer(shared_bucket(data_dir)) as s:
        rc = main(["data", "download", "--categories", "The Eiffel Tower,The Mona Lisa", "--format", "raw",
                   "--out", str(tmp_path), "--base-url", s.base_url])
    assert rc == 0
    err = capsys.readouterr().err
    assert "[2/2]" in err and "drawings" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["The Eiffel Tower.ndjson", "The Mona Lisa.ndjson"]
    shutil.rmtree(tmp_path)
