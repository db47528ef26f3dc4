"""One recognizer shared by 8 threads at once gives every caller exactly its single-threaded answer.

The tflite backend serializes samples under a lock (a LiteRT interpreter is not thread-safe and
keeps LSTM state between invokes); the onnx backend relies on ``InferenceSession.run`` being safe
to call concurrently. Both are driven here with simplified and raw drawings, batches and streams,
all threads released together by a barrier so the calls really overlap.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.rawlike import rawify
from inkcast.runtime import SketchRecognizer

THREADS = 8


def _run_threads(work):
    """Run ``work(i)`` in THREADS threads started together; return results, re-raise any error."""
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS
    errors: list = []

    def target(i):
        try:
            barrier.wait(timeout=60)
            results[i] = work(i)
        except BaseException as e:  # surfaced in the main thread below
            errors.append(e)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


@pytest.fixture(scope="module")
def inputs(test_drawings):
    rng = np.random.default_rng(0)
    simplified = [r["drawing"] for r in test_drawings[::3]]  # 100 drawings, all categories
    raw = [rawify(d, rng) for d in simplified[::4]]
    return simplified + raw


@pytest.mark.parametrize("backend", ["tflite", "onnx"])
def test_eight_threads_get_their_single_threaded_answers(sketch_bundle, inputs, backend):
    rec = SketchRecognizer(sketch_bundle, backend=backend)
    # top_k = every label: the whole probability vector, compared exactly (Python floats).
    want_top = [rec.predict(d, top_k=len(rec.labels)) for d in inputs]

    def work(i):
        order = np.random.default_rng(100 + i).permutation(len(inputs))  # each thread its own order
        got = {}
        for j in order:
            got[int(j)] = rec.predict(inputs[j], top_k=len(rec.labels))
        return got

    for got in _run_threads(work):
        assert len(got) == len(inputs)
        for j, top in got.items():
            assert top == want_top[j], f"{backend}: drawing {j} answered differently under threads"


@pytest.mark.parametrize("backend", ["tflite", "onnx"])
def test_threads_mixing_batches_streams_and_single_calls(sketch_bundle, inputs, backend):
    rec = SketchRecognizer(sketch_bundle, backend=backend)
    chunk = inputs[:24]
    want_batch = rec.predict_batch(chunk, top_k=3)
    want_one = [rec.predict(d, top_k=3) for d in chunk]

    def work(i):
        if i % 3 == 0:
            return rec.predict_batch(chunk, top_k=3)
        if i % 3 == 1:
            out = []
            for d in chunk:
                stream = rec.stream(top_k=3)
                for stroke in d:
                    last = stream.add_stroke(stroke)
                out.append(last)
            return out
        return [rec.predict(d, top_k=3) for d in chunk]

    results = _run_threads(work)
    for i, got in enumerate(results):
        want = want_batch if i % 3 == 0 else want_one
        assert got == want, f"{backend}: thread {i} ({['batch', 'stream', 'predict'][i % 3]}) differs"
