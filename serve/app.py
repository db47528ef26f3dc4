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
runtime refuses gets 422 with the runtime's own message; a request that takes longer than
``max_seconds`` gets 503. A bug is logged and answered 500 without a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inkcast.runtime.errors import BadInputError

log = logging.getLogger("inkcast.serve")


@dataclass(frozen=True)
class ServeLimits:
    """Bounds on each request (the defaults suit a Raspberry Pi serving a classroom)."""

    max_body_bytes: int = 1 << 20  # 1 MiB: a raw phone drawing is ~10-100 kB of JSON
    max_points: int = 20_000  # points per drawing (the runtime's own cap is 100,000)
    max_values: int = 10_000  # values per forecast request
    max_top_k: int = 100
    max_seconds: float = 5.0  # per request, inference included


class HTTPProblem(Exception):
    """An answer other than 200: status and message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Served:
    """One opened bundle and the lock that serializes its calls (a LiteRT interpreter is not safe to
    call from two threads at once; ONNX Runtime's ``run`` is, and is serialized here all the same)."""

    def __init__(self, model: Any):
        self.model = model
        self.lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        m = self.model.manifest
        out = {"task": m["task"], "bundle": str(self.model.bundle.root), "variant": self.model.format,
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
                 signed_by: str | Path | None = None) -> dict[str, Served]:
    """Open each bundle with the runtime; at most one per task."""
    from inkcast.runtime import SketchRecognizer
    from inkcast.runtime.bundle import load_bundle
    from inkcast.runtime.forecaster import Forecaster

    served: dict[str, Served] = {}
    for p in paths:
        task = load_bundle(p).task
        if task in served:
            raise ValueError(f"{p}: a second {task} bundle; serve one bundle per task")
        cls = SketchRecognizer if task == "sketch" else Forecaster
        served[task] = Served(cls(p, backend=backend, format=format, signed_by=signed_by))
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
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, RedirectResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    limits = limits or ServeLimits()

    def problem(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message, "status": status}, status_code=status)

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

    async def infer(s: Served, fn, *args):
        def call():
            with s.lock:
                return fn(*args)
        try:
            return await asyncio.wait_for(run_in_threadpool(call), timeout=limits.max_seconds)
        except asyncio.TimeoutError:
            raise HTTPProblem(503, f"the request took longer than {limits.max_seconds} s") from None
        except BadInputError as e:
            raise HTTPProblem(422, str(e)) from None

    def guarded(handler):
        async def endpoint(request: Request):
            try:
                return await handler(request)
            except HTTPProblem as p:
                return problem(p.status, p.message)
            except Exception:  # a bug: logged here, never a traceback to the client
                log.exception("unexpected error on %s", request.url.path)
                return problem(500, "internal error (logged on the server)")
        return endpoint

    async def recognize(request: Request):
        s = task("sketch")
        drawing, top_k, raw = recognize_args(await read_json(request), limits)
        answer = await infer(s, s.model.recognize, drawing, top_k, raw)
        return JSONResponse({**answer.to_dict(), "variant": s.model.format})

    async def forecast(request: Request):
        s = task("forecast")
        values, dates = forecast_args(await read_json(request), limits)
        if dates is None:
            y = await infer(s, s.model.predict, values)
            return JSONResponse({"forecast": [float(v) for v in y], "variant": s.model.format})
        pairs = await infer(s, s.model.forecast, dates, values)
        return JSONResponse({"dates": [d.isoformat() for d, _ in pairs], "forecast": [v for _, v in pairs],
                             "variant": s.model.format})

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

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
