"""Resource limits: oversized or pathological input is refused with a clear error, in bounded
time and memory (README, "Limits on input")."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from inkcast.runtime import BadInputError, SketchRecognizer
from inkcast.runtime.simplify import MAX_INPUT_POINTS, simplify


@pytest.fixture(scope="module")
def rec(sketch_bundle):
    return SketchRecognizer(sketch_bundle, backend="onnx")


def test_a_drawing_with_millions_of_points_is_refused(rec):
    n = 3_000_000
    xs = list(range(n))
    with pytest.raises(BadInputError, match="more than 100,000 points"):
        rec.predict([[xs, xs]])
    with pytest.raises(BadInputError, match="more than 100,000 points"):
        simplify([np.zeros((n, 2))])
    many = [[[1, 2], [3, 4]]] * (MAX_INPUT_POINTS + 1)
    with pytest.raises(BadInputError, match="strokes; at most 100,000 points"):
        rec.predict(many)
    ok = [[list(range(200)), list(range(200))]] * 400  # 80,000 points: within the limit, answered
    assert rec.predict(ok)[0][0] in rec.labels


def test_deeply_nested_input_is_refused(rec, tmp_path):
    deep: list = []
    for _ in range(50_000):
        deep = [deep]
    with pytest.raises(BadInputError):
        rec.predict(deep)
    from inkcast.data.ndjson import iter_records

    p = tmp_path / "deep.ndjson"
    p.write_text("[" * 200_000 + "]" * 200_000 + "\n")
    with pytest.raises(BadInputError, match=r"deep.ndjson:1: the JSON is nested too deeply"):
        list(iter_records(p))


def test_a_huge_ndjson_line_is_refused_in_bounded_memory(tmp_path):
    """A 1 GB line (sparse file: no disk used) read in a child process whose peak RSS is reported."""
    p = tmp_path / "huge.ndjson"
    with open(p, "wb") as f:
        f.write(b'{"key_id": "1", "drawing": [[[1, 2], [3, 4]]]}\n')
        f.seek(1 << 30)
        f.write(b"\n")
    code = ("import sys\n"
            "from inkcast.data.ndjson import iter_records\n"
            "from inkcast.runtime.errors import BadInputError\n"
            "try:\n    list(iter_records(sys.argv[1]))\nexcept BadInputError as e:\n    print('ERR', e)\n"
            # VmHWM: the peak RSS of this process image (ru_maxrss would include the parent's, kept across exec)
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
            "print('RSS_MB', int(hwm) // 1024)\n")
    r = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "huge.ndjson:2: the line is longer than 16,777,216 bytes" in r.stdout, r.stdout
    rss = int(r.stdout.split("RSS_MB")[1])
    assert rss < 200, f"peak RSS {rss} MB reading a 1 GB line"  # reading it whole would take > 1,000 MB
    print(f"1 GB ndjson line: refused, peak RSS {rss} MB")
