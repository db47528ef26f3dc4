"""A load test of ``inkcast serve`` on loopback: many clients posting real drawings for a while.

``python -m inkcast.benchmarks.serve_load BUNDLE --data DIR --clients 64 --seconds 60`` starts
``inkcast serve BUNDLE`` in its own process (or tests ``--url`` of a running one), first asks for
each drawing's answer alone, then lets the clients post at once and reports requests per second,
p50/p99 latency of the answered requests, the share shed (503 with Retry-After) and every answer
that differs from the single-client one (there must be none).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np


@dataclass
class LoadResult:
    """What the clients saw; ``answers`` are the 200s, ``shed`` the 503s."""

    clients: int
    seconds: float
    answers: list[float] = field(default_factory=list)  # latencies (s) of the 200 answers
    shed: list[float] = field(default_factory=list)  # latencies (s) of the 503 answers
    shed_without_retry_after: int = 0
    mismatches: list[int] = field(default_factory=list)  # drawings whose answer differed from alone
    errors: list[str] = field(default_factory=list)  # anything else: other statuses, broken connections

    def summary(self) -> dict[str, Any]:
        ms = np.array(self.answers) * 1e3
        total = len(self.answers) + len(self.shed) + len(self.errors)
        return {"clients": self.clients, "seconds": round(self.seconds, 1), "requests": total,
                "answered": len(self.answers),
                "answered_per_s": round(len(self.answers) / self.seconds, 1) if self.seconds else None,
                "p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
                "p99_ms": round(float(np.percentile(ms, 99)), 1) if len(ms) else None,
                "shed": len(self.shed), "shed_rate": round(len(self.shed) / total, 4) if total else None,
                "shed_without_retry_after": self.shed_without_retry_after,
                "mismatches": len(self.mismatches), "errors": len(self.errors),
                "first_errors": self.errors[:3]}


def answer_of(body: dict[str, Any]) -> Any:
    """The part of a /v1/recognize answer that must not depend on load."""
    return {k: body.get(k) for k in ("label", "known", "top_k")}


def load_test(url: str, drawings: list[Any], clients: int = 64, seconds: float = 60.0, seed: int = 0) -> LoadResult:
    """Post random ``drawings`` from ``clients`` threads for ``seconds``; compare with single answers."""
    import httpx

    with httpx.Client(timeout=60) as c:
        alone = [answer_of(c.post(f"{url}/v1/recognize", json={"drawing": d}).raise_for_status().json())
                 for d in drawings]
    result = LoadResult(clients, seconds)
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        rng = random.Random((seed, k).__hash__())
        with httpx.Client(timeout=60) as c:
            while time.monotonic() < stop:
                i = rng.randrange(len(drawings))
                t0 = time.perf_counter()
                try:
                    r = c.post(f"{url}/v1/recognize", json={"drawing": drawings[i]})
                except httpx.HTTPError as e:
                    with lock:
                        result.errors.append(repr(e))
                    continue
                dt = time.perf_counter() - t0
                with lock:
                    if r.status_code == 200:
                        result.answers.append(dt)
                        if answer_of(r.json()) != alone[i]:
                            result.mismatches.append(i)
                    elif r.status_code == 503:
                        result.shed.append(dt)
                        result.shed_without_retry_after += "retry-after" not in r.headers
                    else:
                        result.errors.append(f"{r.status_code}: {r.text[:200]}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - t0
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(args: list[str], timeout: float = 120.0) -> Iterator[str]:
    """``inkcast serve ARGS`` in its own process on a free loopback port; yields its URL."""
    import httpx

    port = free_port()
    p = subprocess.Popen([sys.executable, "-c", "import sys; from inkcast.main import main; sys.exit(main())",
                          "serve", *args, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if p.poll() is not None:
                raise RuntimeError(f"inkcast serve exited: {p.stdout.read()[-3000:]}")
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"inkcast serve did not answer within {timeout:.0f} s") from None
                time.sleep(0.2)
        yield url
    finally:
        p.terminate()
        p.wait(timeout=30)


def sample_drawings(folder: str | Path, n: int = 40) -> list[Any]:
    """Up to n drawings spread over the simplified ndjson files of a folder (the first lines of each)."""
    files = sorted(Path(folder).glob("*.ndjson"))
    if not files:
        raise SystemExit(f"{folder}: no .ndjson files")
    per = -(-n // len(files))
    out: list[Any] = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for _, line in zip(range(per), fh):
                out.append(json.loads(line)["drawing"])
    return out[:n]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m inkcast.benchmarks.serve_load", description=__doc__.split("\n")[0])
    ap.add_argument("bundle", nargs="?", help="sketch bundle to serve (or --url)")
    ap.add_argument("--url", help="test a server already running there instead")
    ap.add_argument("--data", required=True, help="folder of simplified .ndjson drawings to post")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--serve-args", default="", help="more arguments for inkcast serve, e.g. '--workers 2 --queue 8'")
    a = ap.parse_args(argv)
    drawings = sample_drawings(a.data)
    if a.url:
        result = load_test(a.url, drawings, a.clients, a.seconds)
    elif a.bundle:
        with serving([a.bundle, *a.serve_args.split()]) as url:
            result = load_test(url, drawings, a.clients, a.seconds)
    else:
        ap.error("give a BUNDLE or --url")
    print(json.dumps(result.summary(), indent=1))
    return 0 if not result.mismatches and not result.errors and not result.shed_without_retry_after else 1


if __name__ == "__main__":
    sys.exit(main())
