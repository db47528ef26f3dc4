"""Streaming recognition (inkcast.runtime.stream) on real drawings, simplified and raw, both backends.

The contract under test: after every update the stream answers exactly what ``predict`` answers
for the drawing so far, so its last answer is exactly ``predict`` on the whole drawing; each
update runs the model once; bad points are refused without changing the stream.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.rawlike import rawify
from inkcast.runtime import BadInputError, SketchRecognizer
from inkcast.runtime.simplify import simplify


@pytest.fixture(scope="module", params=["tflite", "onnx"])
def recognizer(request, sketch_bundle):
    return SketchRecognizer(sketch_bundle, backend=request.param)


class CountingModel:
    """The real model, counting how often it is run (to check what an update costs)."""

    def __init__(self, model):
        self.model, self.calls = model, 0

    def invoke_one(self, x):
        self.calls += 1
        return self.model.invoke_one(x)

    def run(self, x):
        self.calls += len(x)
        return self.model.run(x)


def _points(stroke):
    return list(zip(stroke[0], stroke[1]))


def _predict_or_nothing(recognizer, drawing, top_k=3):
    """``predict``, or [] where it refuses the drawing for having one spot only (a first dot)."""
    try:
        return recognizer.predict(drawing, top_k=top_k)
    except BadInputError as e:
        assert "nothing to recognize" in str(e)
        return []


def test_stroke_by_stroke_equals_predict_on_each_prefix(recognizer, test_drawings):
    for rec in test_drawings[::10]:
        d = rec["drawing"]
        stream = recognizer.stream(top_k=3)
        for k, stroke in enumerate(d, 1):
            got = stream.add_stroke(stroke)
            assert got == _predict_or_nothing(recognizer, d[:k])
        assert got == recognizer.predict(d, top_k=3)  # exactly: same labels, same float probabilities
        assert stream.drawing == d


def test_points_in_chunks_end_exactly_at_predict(recognizer, test_drawings):
    rng = np.random.default_rng(0)
    for rec in test_drawings[3::15]:
        d = rec["drawing"]
        stream = recognizer.stream(top_k=5)
        for stroke in d:
            pts = _points(stroke)
            at = 0
            while at < len(pts):
                n = int(rng.integers(1, 6))
                got = stream.add_points(pts[at : at + n])
                at += n
            assert stream.end_stroke() == got  # finishing a stroke does not change the answer
        assert got == recognizer.predict(d, top_k=5)
        assert [label for label, _ in got] == sorted(recognizer.labels, key=lambda lb: -dict(got)[lb])


def test_raw_phone_input_streamed_point_by_point_ends_at_predict(recognizer, test_drawings):
    rng = np.random.default_rng(1)
    for rec in test_drawings[7::25]:
        raw = rawify(rec["drawing"], rng)  # [(x, y, t), ...] strokes in screen pixels
        stream = recognizer.stream(top_k=3)
        answers = []
        for stroke in raw:
            for at in range(0, len(stroke), 10):  # ~80 ms of touch events per update
                answers.append(stream.add_points(stroke[at : at + 10]))
            stream.end_stroke()
        assert answers[-1] == recognizer.predict(raw, top_k=3)
        assert answers[-1] == recognizer.predict(simplify(raw), top_k=3)
        assert all(len(a) == 3 for a in answers[1:])


def test_each_update_runs_the_model_once(sketch_bundle, test_drawings):
    rec = SketchRecognizer(sketch_bundle, backend="tflite")
    counter = CountingModel(rec.model)
    rec.model = counter
    rng = np.random.default_rng(2)
    raw = rawify(test_drawings[11]["drawing"], rng)
    stream = rec.stream()
    updates = 0
    for stroke in raw:
        for at in range(0, len(stroke), 7):
            stream.add_points(stroke[at : at + 7])
            updates += 1
        calls = counter.calls
        stream.end_stroke()
        assert counter.calls == calls  # closing a stroke costs nothing
    assert counter.calls == updates
    counter.calls = 0
    rec.predict(raw)
    assert counter.calls == 1  # ... and one full prediction is one model run too


def test_finished_strokes_are_not_simplified_again_while_the_frame_holds(sketch_bundle, test_drawings):
    rec = SketchRecognizer(sketch_bundle, backend="tflite")
    rng = np.random.default_rng(3)
    raw = rawify(test_drawings[20]["drawing"], rng)
    stream = rec.stream()
    for stroke in raw:
        stream.add_stroke(stroke)
    cached = dict(stream._cache)
    assert sorted(cached) == list(range(len(raw)))  # every finished stroke, simplified once
    xy = np.concatenate([np.asarray(s)[:, :2] for s in raw])
    mid = (xy.min(axis=0) + xy.max(axis=0)) / 2
    got = stream.add_points([tuple(mid), tuple(mid + 9)])  # inside the frame: nothing to redo
    assert all(stream._cache[i] is cached[i] for i in cached)
    assert got == rec.predict(stream.drawing)
    got = stream.add_points([tuple(xy.max(axis=0) + 300)])  # outside: a new frame, all redone
    assert all(stream._cache[i] is not cached[i] for i in cached)
    assert got == rec.predict(stream.drawing)


def test_start_of_a_drawing_and_reset(recognizer, test_drawings):
    stream = recognizer.stream()
    assert stream.add_points([]) == [] and stream.drawing == []  # no points: nothing happens
    assert stream.add_points([(120, 80)]) == []  # one point: nothing to recognize yet
    assert stream.add_points((120, 80, 16.0)) == []  # the same spot again
    assert len(stream.add_points([(160, 80)])) == 3
    stream.reset()
    assert stream.drawing == [] and stream.predict() == []
    d = test_drawings[5]["drawing"]
    for s in d:
        got = stream.add_stroke(s)
    assert got == recognizer.predict(d)


def test_bad_points_are_refused_and_leave_the_stream_unchanged(recognizer, test_drawings):
    d = next(r["drawing"] for r in test_drawings if len(r["drawing"]) > 1 and len(r["drawing"][1][0]) > 5)
    stream = recognizer.stream()
    stream.add_stroke(d[0])
    pts = _points(d[1])
    before = stream.add_points(pts[:3])
    with pytest.raises(BadInputError, match=r"stroke 1, point 4: y is nan"):
        stream.add_points([pts[3], (pts[4][0], float("nan"))])
    with pytest.raises(BadInputError, match=r"stroke 1, point 3: x = 1e\+12 is out of range"):
        stream.add_points([(1e12, 3.0)])
    with pytest.raises(BadInputError, match="stroke 1: points must be"):
        stream.add_points([[1, 2, 3, 4]])
    with pytest.raises(BadInputError, match="stroke 2 has no points"):
        stream.add_stroke([[], []])
    assert stream.predict() == before
    assert stream.drawing == [d[0], [[p[0] for p in pts[:3]], [p[1] for p in pts[:3]]]]
    with pytest.raises(BadInputError, match="top_k"):
        recognizer.stream(top_k=0)
    with pytest.raises(BadInputError, match="raw must be"):
        recognizer.stream(raw="auto")


def test_too_much_ink_is_refused_and_rolled_back(sketch_bundle):
    rec = SketchRecognizer(sketch_bundle, backend="onnx")
    stream = rec.stream(raw=True)
    first = stream.add_stroke([(0.0, 0.0), (0.0, 100.0), (5.0, 50.0), (100.0, 100.0)])
    with pytest.raises(BadInputError, match="longer than"):
        stream.add_stroke([(0.0, 0.0), (100.0, 0.0)] * 500)
    assert stream.predict() == first and len(stream.drawing) == 1


def test_how_early_report_is_built_from_stream_prefixes(sketch_bundle, test_drawings):
    from experiments.how_early import first_index, how_early, length_groups, prefix_answers, stays_from

    rec = SketchRecognizer(sketch_bundle, backend="onnx")
    d = max(test_drawings, key=lambda r: len(r["drawing"]))["drawing"]
    answers = prefix_answers(rec, d)
    assert answers == [[lb for lb, _ in _predict_or_nothing(rec, d[:k])] for k in range(1, len(d) + 1)]
    assert first_index([False, True, False, True]) == 2 and stays_from([False, True, False, True]) == 4
    assert stays_from([True, True]) == 1 and stays_from([True, False]) is None and first_index([False]) is None

    records = test_drawings[::6]
    report = how_early(rec, records)
    assert report["drawings"] == len(records)
    for scope in ("all", "multi_stroke"):
        b = report["final_label"][scope]
        for key in ("top1_first", "top3_first", "top1_stays", "top3_stays"):
            assert 0 < b[key]["mean"] <= 1 and 0 < b[key]["median"] <= 1
        assert b["top3_first"]["mean"] <= b["top1_first"]["mean"] <= b["top1_stays"]["mean"]
    groups = length_groups([5, 6, 7, 20, 21, 22, 23, 60, 90, 128], per_group=3)
    assert groups["short"] == [0] and groups["median"] == [3, 4, 5] and groups["long"] == [9]


def test_stream_simplify_and_how_early_never_import_tensorflow(sketch_bundle, test_drawings):
    import json
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "from inkcast.runtime import SketchRecognizer\n"
        "import experiments.how_early\n"
        "r = SketchRecognizer(sys.argv[1])\n"
        "s = r.stream()\n"
        "for stroke in json.loads(sys.argv[2]):\n"
        "    top = s.add_points([(x * 4.0 + 100, y * 4.0 + 300) for x, y in zip(*stroke)])\n"
        "    s.end_stroke()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tf_keras', 'keras', 'scipy'))\n"
        "print(json.dumps({'heavy': heavy, 'top': top}))\n"
    )
    d = test_drawings[1]["drawing"]
    res = subprocess.run([sys.executable, "-c", script, str(sketch_bundle), json.dumps(d)],
                         capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["heavy"] == []  # NumPy only: no TensorFlow, and no SciPy either
    assert len(out["top"]) == 3
