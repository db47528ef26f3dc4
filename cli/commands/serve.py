"""``inkcast serve``: the runtime behind an HTTP API (needs ``pip install 'inkcast[serve]'``)."""

from __future__ import annotations

import argparse

from .vocabulary import add_signed_by, add_variant


def register(sub) -> None:
    s = sub.add_parser("serve", help="serve bundles over HTTP: /v1/recognize, /v1/forecast, /v1/health, /v1/model")
    s.add_argument("bundles", nargs="+", help="one bundle per task (a sketch bundle, a forecast bundle)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8000)
    add_variant(s)
    add_signed_by(s)
    s.add_argument("--max-body-bytes", type=int)
    s.add_argument("--max-points", type=int)
    s.add_argument("--max-seconds", type=float, help="per request; past it: 503 with Retry-After (default 5)")
    s.add_argument("--workers", type=int, help="inference threads per bundle (default: the cores, at most 4)")
    s.add_argument("--queue", type=int, help="requests per bundle waiting for a worker; past it: 503 with "
                                             "Retry-After (default 16)")
    s.set_defaults(func=serve_command)


def serve_command(a: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        from inkcast.runtime.errors import BackendUnavailableError

        raise BackendUnavailableError("inkcast serve needs Starlette and uvicorn: pip install 'inkcast[serve]'") from None
    from dataclasses import replace

    from inkcast.serve.app import ServeLimits, create_app, open_bundles

    limits = ServeLimits()
    for field in ("max_body_bytes", "max_points", "max_seconds", "workers", "queue"):
        if getattr(a, field) is not None:
            limits = replace(limits, **{field: getattr(a, field)})
    app = create_app(open_bundles(a.bundles, a.backend, a.variant, a.signed_by, limits), limits)
    print(f"serving {', '.join(a.bundles)} on http://{a.host}:{a.port} (GET /v1/health)", flush=True)
    uvicorn.run(app, host=a.host, port=a.port, log_level="warning")
    return 0
