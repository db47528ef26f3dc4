"""The HTTP API over one or more bundles: recognize drawings, forecast series, describe the model.

Routes (JSON in and out):

* ``POST /v1/recognize`` ``{"drawing": [...], "top_k": 3, "raw": null}`` -> ``{"label": "star" | null,
  "known": bool, "score": p, "threshold": t, "top_k": [[label, p], ...]}``: ``label`` is null ("I'm
  not sure") when the top-1 probability is below the bundle's threshold (``SketchRecognizer.recognize``)
* ``POST /v1/forecast`` ``{"values": [...], "dates": [...]?}`` -> ``{"forecast": [...], "dates": [...]?}``
* ``GET /v1/health`` -> ``{"status": "ok", "tasks": [...]}``
* ``GET /v1/model`` -> each bundle's task, labels, variant and file checksums

Limits (``ServeLimits``): request bodies over ``max_body_bytes`` get 413 before they are read
whole; drawings over ``max_points`` points get 413; malformed JSON or fields get 400; input the
runtime refuses gets 422 with the runtime's own message. A bug is logged and answered 500
without a traceback.

Overload is explicit: each bundle runs on its own ``workers`` threads (LiteRT: one interpreter per
thread, since one is not thread-safe; ONNX Runtime: one session that they call concurrently) with
at most ``queue`` requests waiting. A request past that gets 503 with ``Retry-After`` at once; one
that takes longer than ``max_seconds`` gets 503 too, and nothing it holds blocks the next: its
worker finishes it and is counted busy until then, so the server never queues without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from inkcast.runtime.errors import BadInputError, OptionsError

log = logging.getLogger("inkcast.serve")


@dataclass(frozen=True)
class ServeLimits:
    """Bounds on each request (the defaults suit a Raspberry Pi serving a classroom)."""

    max_body_bytes: int = 1 << 20  # 1 MiB: a raw phone drawing is ~10-100 kB of JSON
    max_points: int = 20_000  # points per drawing (the runtime's own cap is 100,000)
    max_values: int = 10_000  # values per forecast request
    max_top_k: int = 100
    max_seconds: float = 5.0  # per request, inference included
    workers: int = min(4, os.cpu_count() or 1)  # inference threads per bundle
    queue: int = 16  # requests per bundle waiting for a worker; past it: 503 with Retry-After


class HTTPProblem(Exception):
    """An answer other than 200: status, message and headers (``Retry-After`` on a 503)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Served:
    """One bundle behind a bounded pool: ``workers`` threads, each with a model of its own (LiteRT
    interpreters are not thread-safe) or one shared model (ONNX Runtime's ``run`` is thread-safe),
    and at most ``workers + queue`` requests admitted at once."""

    def __init__(self, open_model: Callable[[], Any], workers: int = 1, queue_size: int = 0,
                 shared: bool = False):
        if workers < 1 or queue_size < 0:
            raise OptionsError(f"a served bundle needs workers >= 1 and queue >= 0 (got {workers}, {queue_size})")
        self.model = open_model()
        self.models: queue.SimpleQueue = queue.SimpleQueue()  # one per worker thread, so a get never waits
        for i in range(workers):
            self.models.put(self.model if shared or i == 0 else open_model())
        self.workers, self.capacity = workers, workers + queue_size
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix=f"inkcast-{self.model.task}")
        self._count = threading.Lock()
        self.admitted = 0  # requests queued or running, including timed-out ones still running

    def submit(self, method: str, *args) -> Future | None:
        """Run ``model.method(*args)`` on a worker; None when the bundle is at capacity."""
        with self._count:
            if self.admitted >= self.capacity:
                return None
            self.admitted += 1

        def call():
            model = self.models.get()
            try:
                return getattr(model, method)(*args)
            finally:
                self.models.put(model)

        future = self.pool.submit(call)
        future.add_done_callback(self._release)  # also when cancelled before it ran
        return future

    def _release(self, _future: Future) -> None:
        with self._count:
            self.admitted -= 1

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        m = self.model.manifest
        out = {"task": m["task"], "bundle": str(self.model.bundle.root), "variant": self.model.variant,
               "backend": self.model.backend, "inkcast_version": m.get("inkcast_version"),
               "sha256": {v["file"]: v["sha256"] for v in m["variants"].values()},
               "files": m.get("files", {}), "manifest_sealed": self.model.bundle.manifest_sealed}
        if m["task"] == "sketch":
            out["labels"] = list(self.model.labels)
            out["threshold"] = self.model.threshold
            u = m.get("unknown") or {}
            out["unknown"] = {k: u[k] for k in ("method", "score", "threshold", "rule", "chosen_by") if k in u}
        else:
            out["window"], out["horizon"] = self.model.window, self.model.horizon
        return out


def open_bundles(paths: list[str | Path], backend: str = "tflite", format: str | None = None,
                 signed_by: str | Path | None = None, limits: ServeLimits | None = None) -> dict[str, Served]:
    """Open each bundle with the runtime, ``limits.workers`` times for LiteRT; at most one per task."""
    from functools import partial

    from inkcast.runtime import SketchRecognizer
    from inkcast.runtime.bundle import load_bundle
    from inkcast.runtime.forecaster import Forecaster

    limits = limits or ServeLimits()
    served: dict[str, Served] = {}
    for p in paths:
        task = load_bundle(p).task
        if task in served:
            raise ValueError(f"{p}: a second {task} bundle; serve one bundle per task")
        cls = SketchRecognizer if task == "sketch" else Forecaster
        served[task] = Served(partial(cls, p, backend=backend, format=format, signed_by=signed_by),
                              limits.workers, limits.queue, shared=backend == "onnx")
    return served


# ------------------------------------------------------------------ request checks (pure functions)


def parse_body(body: bytes, limits: ServeLimits) -> dict[str, Any]:
    if len(body) > limits.max_body_bytes:
        raise HTTPProblem(413, f"the request body is over {limits.max_body_bytes:,} bytes")
    try:
        obj = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise HTTPProblem(400, "the request body is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise HTTPProblem(400, f"the request body is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    except RecursionError:
        raise HTTPProblem(400, "the request body is nested too deeply") from None
    if not isinstance(obj, dict):
        raise HTTPProblem(400, f"the request body must be a JSON object, got {type(obj).__name__}")
    return obj


def count_points(drawing: Any, limit: int) -> int:
    """Numbers in a drawing's JSON (an upper bound on its points), stopping past ``limit``."""
    n, stack = 0, [drawing]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        else:
            n += 1
            if n > limit * 3:  # x, y and t per point
                break
    return n // 2


def recognize_args(obj: dict[str, Any], limits: ServeLimits) -> tuple[Any, int, bool | None]:
    unknown = sorted(set(obj) - {"drawing", "top_k", "raw"})
    if unknown:
        raise HTTPProblem(400, f"unknown field(s): {', '.join(unknown)}; expected drawing, top_k, raw")
    if "drawing" not in obj:
        raise HTTPProblem(400, "the request has no 'drawing' field")
    top_k = obj.get("top_k", 3)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= limits.max_top_k:
        raise HTTPProblem(400, f"top_k must be an integer from 1 to {limits.max_top_k}, got {top_k!r:.40}")
    raw = obj.get("raw")
    if raw is not None and not isinstance(raw, bool):
        raise HTTPProblem(400, f"raw must be true, false or null, got {raw!r:.40}")
    if count_points(obj["drawing"], limits.max_points) > limits.max_points:
        raise HTTPProblem(413, f"the drawing has more than {limits.max_points:,} points")
    return obj["drawing"], top_k, raw


def forecast_args(obj: dict[str, Any], limits: ServeLimits) -> tuple[list, list | None]:
    unknown = sorted(set(obj) - {"values", "dates"})
    if unknown:
        raise HTTPProblem(400, f"unknown field(s): {', '.join(unknown)}; expected values, dates")
    values, dates = obj.get("values"), obj.get("dates")
    if not isinstance(values, list):
        raise HTTPProblem(400, "the request needs 'values': a list of numbers, oldest first")
    if len(values) > limits.max_values:
        raise HTTPProblem(413, f"more than {limits.max_values:,} values")
    if dates is not None and not isinstance(dates, list):
        raise HTTPProblem(400, "'dates' must be a list of ISO dates matching 'values'")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        raise HTTPProblem(422, "every value must be a number")
    return values, dates


# ------------------------------------------------------------------ the app


def web_folder() -> Path:
    """The drawing page's files (``inkcast.web`` package data)."""
    from importlib.resources import files

    return Path(str(files("inkcast.web")))


def create_app(served: dict[str, Served], limits: ServeLimits | None = None, web: Path | None = None):
    """The Starlette application over opened bundles; ``web``: the page's folder (None: the
    installed one), served at ``/web`` with ``/`` leading to it in server mode."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, RedirectResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    limits = limits or ServeLimits()

    def problem(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)

    retry_after = {"Retry-After": str(max(1, math.ceil(limits.max_seconds)))}

    async def read_json(request: Request) -> dict[str, Any]:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limits.max_body_bytes:
            raise HTTPProblem(413, f"the request body is over {limits.max_body_bytes:,} bytes")
        body = bytearray()
        async for chunk in request.stream():  # stop reading once past the limit
            body += chunk
            if len(body) > limits.max_body_bytes:
                raise HTTPProblem(413, f"the request body is over {limits.max_body_bytes:,} bytes")
        return parse_body(bytes(body), limits)

    def task(name: str) -> Served:
        if name not in served:
            raise HTTPProblem(404, f"this server has no {name} bundle (it serves: {', '.join(served)})")
        return served[name]

    async def infer(s: Served, method: str, *args):
        future = s.submit(method, *args)
        if future is None:
            raise HTTPProblem(503, f"the server is busy ({s.capacity} {s.model.task} requests in hand); retry "
                              f"after {retry_after['Retry-After']} s", retry_after)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout=limits.max_seconds)
        except asyncio.TimeoutError:  # wait_for cancelled it if it had not started; no lock is held
            raise HTTPProblem(503, f"the request took longer than {limits.max_seconds} s", retry_after) from None
        except BadInputError as e:
            raise HTTPProblem(422, str(e)) from None

    def guarded(handler):
        async def endpoint(request: Request):
            try:
                return await handler(request)
            except HTTPProblem as p:
                return problem(p.status, p.message, p.headers)
            except Exception:  # a bug: logged here, never a traceback to the client
                log.exception("unexpected error on %s", request.url.path)
                return problem(500, "internal error (logged on the server)")
        return endpoint

    async def recognize(request: Request):
        s = task("sketch")
        drawing, top_k, raw = recognize_args(await read_json(request), limits)
        answer = await infer(s, "recognize", drawing, top_k, raw)
        return JSONResponse({**answer.to_dict(), "variant": s.model.variant})

    async def forecast(request: Request):
        s = task("forecast")
        values, dates = forecast_args(await read_json(request), limits)
        if dates is None:
            y = await infer(s, "predict", values)
            return JSONResponse({"forecast": [float(v) for v in y], "variant": s.model.variant})
        pairs = await infer(s, "forecast", dates, values)
        return JSONResponse({"dates": [d.isoformat() for d, _ in pairs], "forecast": [v for _, v in pairs],
                             "variant": s.model.variant})

    async def health(request: Request):
        return JSONResponse({"status": "ok", "tasks": sorted(served)})

    async def model(request: Request):
        return JSONResponse({name: s.describe() for name, s in served.items()})

    async def index(request: Request):
        return RedirectResponse("/web/index.html?mode=server")

    routes = [Route("/", index, methods=["GET"]),
              Mount("/web", app=StaticFiles(directory=str(web or web_folder()), html=True), name="web"),
              Route("/v1/recognize", guarded(recognize), methods=["POST"]),
              Route("/v1/forecast", guarded(forecast), methods=["POST"]),
              Route("/v1/health", guarded(health), methods=["GET"]),
              Route("/v1/model", guarded(model), methods=["GET"])]

    async def not_found(request: Request, exc):
        return problem(getattr(exc, "status_code", 404), getattr(exc, "detail", "not found"))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        for s in served.values():
            s.close()

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)
