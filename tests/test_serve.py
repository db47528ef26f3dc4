"""``inkcast serve``: the HTTP API on a real uvicorn server on loopback, and its refusals.

Answers must equal the runtime's; malformed requests get 4xx with the runtime's message, never a
500 or a traceback; concurrent clients get the answers a single client gets. The load test runs
``INKCAST_SERVE_LOAD_SECONDS`` (default 8 s in CI; the issue's figure is for 60 s).
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(sketch_bundle, forecast_bundle):
    """``inkcast serve`` in its own process, as a user starts it."""
    port = free_port()
    p = subprocess.Popen([sys.executable, "-c", "import sys; from inkcast.main import main; sys.exit(main())",
                          "serve", str(sketch_bundle), str(forecast_bundle), "--port", str(port), "--max-points", "5000",
                          "--workers", "2", "--queue", "16"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if p.poll() is not None:
            pytest.fail(f"inkcast serve exited: {p.stdout.read()[-3000:]}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield url
    p.terminate()
    p.wait(timeout=30)


@pytest.fixture(scope="module")
def runtime(sketch_bundle):
    from inkcast.runtime import SketchRecognizer

    return SketchRecognizer(sketch_bundle)


def test_health_and_model(server, sketch_bundle):
    assert httpx.get(f"{server}/v1/health").json() == {"status": "ok", "tasks": ["forecast", "sketch"]}
    m = httpx.get(f"{server}/v1/model").json()
    manifest = json.loads((sketch_bundle / "manifest.json").read_text())
    assert m["sketch"]["labels"] == manifest["labels"] and m["sketch"]["variant"] == "tflite-float32"
    assert m["sketch"]["sha256"]["model.tflite"] == manifest["variants"]["tflite-float32"]["sha256"]
    assert m["forecast"]["window"] == 56 and m["forecast"]["horizon"] == 7


def test_recognize_equals_the_runtime_raw_and_simplified(server, runtime, test_drawings):
    from tests.rawlike import rawify

    for rec in test_drawings[::15]:
        d = rec["drawing"]
        r = httpx.post(f"{server}/v1/recognize", json={"drawing": d, "top_k": 3})
        assert r.status_code == 200, r.text
        want = runtime.predict(d, top_k=3)
        got = r.json()["top_k"]
        assert [g[0] for g in got] == [w[0] for w in want]
        np.testing.assert_allclose([g[1] for g in got], [w[1] for w in want], rtol=1e-6)
    raw = rawify(test_drawings[0]["drawing"], np.random.default_rng(1))
    r = httpx.post(f"{server}/v1/recognize", json={"drawing": raw})
    assert r.status_code == 200 and r.json()["top_k"][0][0] == runtime.predict(raw)[0][0]


def test_recognize_says_unknown_as_the_runtime_does(server, runtime, sketch_bundle):
    """Every conformance vector, the unknown ones included: the server's answer is the runtime's."""
    doc = json.loads((sketch_bundle / "conformance.json").read_text())
    m = httpx.get(f"{server}/v1/model").json()["sketch"]
    assert m["threshold"] == runtime.threshold == doc["threshold"] and m["unknown"]["method"] == "outlier-exposure"
    unsure = 0
    for v in doc["vectors"]:
        body = httpx.post(f"{server}/v1/recognize", json={"drawing": v["input"]}).json()
        want = runtime.recognize(v["input"])
        assert (body["label"], body["known"]) == (want.label, want.known) == (
            v["expected"]["tflite-float32"]["label"], v["expected"]["tflite-float32"]["known"]), v["id"]
        assert body["threshold"] == runtime.threshold and body["score"] == pytest.approx(want.score, rel=1e-6)
        unsure += body["label"] is None
    assert unsure >= 1


def test_forecast_equals_the_runtime(server, forecast_bundle, cta_csv):
    from inkcast.data.series_csv import read_series
    from inkcast.runtime.forecaster import Forecaster

    s = read_series(cta_csv, "service_date", "rail_boardings")
    values = s.values[-56:].tolist()
    r = httpx.post(f"{server}/v1/forecast", json={"values": values})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["forecast"], Forecaster(forecast_bundle).predict(values), rtol=1e-9)
    dates = [str(d) for d in s.dates[-56:]]
    r = httpx.post(f"{server}/v1/forecast", json={"values": values, "dates": dates})
    assert r.status_code == 200 and len(r.json()["dates"]) == 7


BAD = [
    (b"{not json", 400, "not valid JSON"),
    (b"[1, 2]", 400, "must be a JSON object"),
    (b'{"drawing": [[[1, 2], [3]]]}', 422, "stroke 0"),
    (b'{"drawing": []}', 422, "empty"),
    (b'{"drawing": [[[1, 2], [3, 4]]], "top_k": 0}', 400, "top_k"),
    (b'{"drawing": [[[1, 2], [3, 4]]], "top_k": true}', 400, "top_k"),
    (b'{"drawing": [[[1, 2], [3, 4]]], "colour": "red"}', 400, "unknown field"),
    (b'{"drawing": [[["a", 2], [3, 4]]]}', 422, "not a number"),
    (b'{"pic": 1}', 400, "unknown field"),
    (b"\xff\xfe", 400, "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
]


def test_malformed_requests_get_4xx_naming_the_problem(server):
    for body, status, words in BAD:
        r = httpx.post(f"{server}/v1/recognize", content=body, headers={"content-type": "application/json"})
        assert r.status_code == status and words in r.json()["error"], (body[:40], r.status_code, r.text[:200])
    big = {"drawing": [[list(range(3000)), list(range(3000))], [list(range(3000)), list(range(3000))]]}
    r = httpx.post(f"{server}/v1/recognize", json=big)
    assert r.status_code == 413 and "more than 5,000 points" in r.json()["error"]
    r = httpx.post(f"{server}/v1/recognize", content=b" " * (2 << 20))
    assert r.status_code == 413
    assert httpx.post(f"{server}/v1/forecast", json={"values": [1.0] * 10}).status_code == 422
    assert httpx.post(f"{server}/v1/forecast", json={"values": "x"}).status_code == 400
    assert httpx.get(f"{server}/v1/nothing").status_code == 404
    assert httpx.get(f"{server}/v1/recognize").status_code == 405


def test_a_thousand_random_malformed_requests_get_only_4xx(server):
    rng = random.Random(3)
    statuses: dict[int, int] = {}
    with httpx.Client() as client:
        for i in range(1000):
            kind = i % 4
            if kind == 0:
                body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60)))
            elif kind == 1:
                body = json.dumps({"drawing": [[[rng.choice([1, "x", None, 1e400, -5, True])
                                                 for _ in range(rng.randrange(0, 4))] for _ in range(rng.randrange(0, 3))]
                                               for _ in range(rng.randrange(0, 3))],
                                   "top_k": rng.choice([1, 3, -1, 0.5, "3", None])}).encode()
            elif kind == 2:
                body = json.dumps(rng.choice([[], 1, "drawing", None, {"drawing": {}}, {"drawing": "x"}])).encode()
            else:
                body = json.dumps({"values": [rng.choice([1.0, "a", None, True]) for _ in range(rng.randrange(0, 70))]}).encode()
            path = "/v1/forecast" if kind == 3 else "/v1/recognize"
            r = client.post(f"{server}{path}", content=body)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert 400 <= r.status_code < 500 or r.status_code == 200, (body[:80], r.status_code, r.text[:300])
            assert "Traceback" not in r.text
    assert sum(v for k, v in statuses.items() if k >= 400) >= 900, statuses


def test_concurrent_clients_get_the_single_client_answers(server, test_drawings):
    """64 clients against 2 workers and a queue of 16: every answer equals the single-client one,
    and what the server cannot take is shed with 503 and Retry-After, never queued without bound."""
    from inkcast.benchmarks.serve_load import load_test

    seconds = float(os.environ.get("INKCAST_SERVE_LOAD_SECONDS", "8"))
    result = load_test(server, [r["drawing"] for r in test_drawings[::7][:40]], clients=64, seconds=seconds)
    report = result.summary()
    print("serve load:", json.dumps(report))
    assert not result.errors and not result.mismatches, report
    assert result.shed_without_retry_after == 0, report
    assert len(result.answers) > 64, report



# ------------------------------------------------------------------ overload: a slow request, a full queue


class HeldRecognizer:
    """A real recognizer whose ``recognize`` of the drawing ``HOLD`` waits until the test releases it:
    a request that is slow for reasons of its own, without any wall-clock guess."""

    HOLD = [[[0, 50, 100], [0, 50, 0]]]

    def __init__(self, bundle, release: threading.Event, finished: threading.Event):
        from inkcast.runtime import SketchRecognizer

        self.inner = SketchRecognizer(bundle)
        self.release, self.finished = release, finished

    def __getattr__(self, name):  # everything but recognize: the real recognizer's
        return getattr(self.inner, name)

    def recognize(self, drawing, top_k=3, raw=None):
        if drawing == self.HOLD:
            self.release.wait(60)
            self.finished.set()
        return self.inner.recognize(drawing, top_k, raw)


@pytest.fixture()
def held_server(sketch_bundle, request):
    """An in-process uvicorn server over one held recognizer pool (``request.param``: workers, queue)."""
    import uvicorn

    from inkcast.serve.app import ServeLimits, Served, create_app

    workers, queue = request.param
    release, finished = threading.Event(), threading.Event()
    served = {"sketch": Served(lambda: HeldRecognizer(sketch_bundle, release, finished), workers, queue)}
    app = create_app(served, ServeLimits(max_seconds=1.0, workers=workers, queue=queue))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{port}"
    while not srv.started:
        time.sleep(0.05)
    yield url, release, finished
    release.set()
    srv.should_exit = True
    t.join(30)


@pytest.mark.parametrize("held_server", [(2, 4)], indirect=True)
def test_a_slow_request_times_out_without_blocking_the_next(held_server, test_drawings, runtime):
    url, release, finished = held_server
    drawing = test_drawings[0]["drawing"]
    with httpx.Client(timeout=30) as c:
        slow = c.post(f"{url}/v1/recognize", json={"drawing": HeldRecognizer.HOLD})
        assert slow.status_code == 503 and "longer than" in slow.json()["error"]
        assert slow.headers["retry-after"] == "1"
        # the slow call still runs on its worker, and the next request is answered beside it
        nxt = c.post(f"{url}/v1/recognize", json={"drawing": drawing})
        assert not finished.is_set()
        assert nxt.status_code == 200, nxt.text
        assert [g[0] for g in nxt.json()["top_k"]] == [w[0] for w in runtime.recognize(drawing).top_k]


@pytest.mark.parametrize("held_server", [(1, 0)], indirect=True)
def test_a_full_pool_sheds_with_503_and_retry_after(held_server, test_drawings):
    url, release, finished = held_server
    with httpx.Client(timeout=30) as c:
        slow = c.post(f"{url}/v1/recognize", json={"drawing": HeldRecognizer.HOLD})  # times out, still running
        assert slow.status_code == 503
        shed = c.post(f"{url}/v1/recognize", json={"drawing": test_drawings[0]["drawing"]})
        assert not finished.is_set()
        assert shed.status_code == 503 and "busy" in shed.json()["error"] and "retry-after" in shed.headers
        release.set()
        finished.wait(30)
        deadline = time.monotonic() + 30  # the worker frees itself once the held call returns
        while (r := c.post(f"{url}/v1/recognize", json={"drawing": test_drawings[0]["drawing"]})).status_code == 503:
            assert time.monotonic() < deadline, r.text
            time.sleep(0.05)
        assert r.status_code == 200
