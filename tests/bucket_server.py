"""A real HTTP server on 127.0.0.1 that serves files in Google's bucket layout, with faults.

It answers GET with Range support (206 + Content-Range), and can be told, per URL path, to cut
the body after some bytes (the connection closes mid-transfer), to answer 404, or to answer 500
a number of times before it behaves, or to send slowly. Every request is logged (path, Range header)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote


@dataclass
class Faults:
    cut_after: dict[str, int] = field(default_factory=dict)  # path -> bytes sent before the cut (once)
    status: dict[str, int] = field(default_factory=dict)  # path -> status, always
    errors_before_ok: dict[str, int] = field(default_factory=dict)  # path -> 500s still to send
    ignore_range: bool = False
    bytes_per_second: float | None = None  # send bodies in 16 KiB pieces at this rate (None: at once)


class BucketServer:
    """``with BucketServer({"full/simplified/cat.ndjson": Path(...)}) as s: s.base_url``"""

    def __init__(self, files: dict[str, Path], faults: Faults | None = None):
        self.files, self.faults, self.log = files, faults or Faults(), []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                path = unquote(self.path.lstrip("/"))
                rng = self.headers.get("Range")
                server.log.append((path, rng))
                f = server.faults
                if path in f.status:
                    self.send_error(f.status[path])
                    return
                if f.errors_before_ok.get(path, 0) > 0:
                    f.errors_before_ok[path] -= 1
                    self.send_error(500)
                    return
                if path not in server.files:
                    self.send_error(404)
                    return
                data = server.files[path].read_bytes()
                start = 0
                if rng and not f.ignore_range:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                cut = f.cut_after.pop(path, None)
                if cut is not None:
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if f.bytes_per_second is None:
                    self.wfile.write(body)
                    return
                piece = 16 << 10
                try:
                    for i in range(0, len(body), piece):
                        self.wfile.write(body[i : i + piece])
                        time.sleep(piece / f.bytes_per_second)
                except (BrokenPipeError, ConnectionResetError):  # the client was killed
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "BucketServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def shared_bucket(data_dir: Path, extra: dict[str, Path] | None = None) -> dict[str, Path]:
    """``../shared/data`` in Google's bucket layout: simplified, raw and sketch-rnn files."""
    files = {f"full/simplified/{p.name}": p for p in (data_dir / "quickdraw").glob("*.ndjson")}
    files.update({f"full/raw/{p.name}": p for p in (data_dir / "quickdraw-raw" / "raw").glob("*.ndjson")})
    files.update({f"sketchrnn/{p.name}": p for p in (data_dir / "sketch-rnn").glob("*.npz")})
    files.update(extra or {})
    return files
