"""Download Quick, Draw! category files from Google's public bucket (or a mirror of its layout).

Parallel (a thread per file, ``workers`` at a time), resumable (a partial file is continued with
an HTTP Range request, also across runs), retried with exponential backoff on network errors and
5xx answers, and atomic: bytes go to ``OUT/.partial/<file>.part``, every record of the finished
file is parsed by its reader, and only then is it renamed to ``OUT/<category><suffix>``. So a file
in OUT is always whole and readable; a 404 or a file that does not parse is an error naming the
category and URL.

Written on the standard library's urllib: one GET with a Range header per attempt is all it
needs, and the runtime install stays free of an HTTP client dependency.
"""

from __future__ import annotations

import http.client
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from difflib import get_close_matches
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from inkcast.runtime.errors import BadInputError, InkcastError, OptionsError

from .files import is_disk_full
from .formats import read_file

BASE_URL = "https://storage.googleapis.com/quickdraw_dataset"
# format -> (folder in the bucket, file suffix): Google's published layout
LAYOUT = {"simplified": ("full/simplified", ".ndjson"), "raw": ("full/raw", ".ndjson"),
          "binary": ("full/binary", ".bin"), "npz": ("sketchrnn", ".npz")}
PARTIAL = ".partial"


class DownloadError(InkcastError):
    """A file could not be downloaded whole; the message names the category and URL."""


@dataclass
class DownloadOptions:
    """What to fetch and how hard to try."""

    categories: tuple[str, ...] = ()  # names as Google spells them (category_names()); empty: none
    format: str = "simplified"
    base_url: str = BASE_URL
    workers: int = 4  # files downloaded at once
    retries: int = 5  # further attempts after a network error or a 5xx answer
    backoff_seconds: float = 1.0  # wait before retry k: backoff_seconds * 2 ** k
    timeout_seconds: float = 60.0  # per connection and per read
    chunk_bytes: int = 1 << 20


def category_names() -> list[str]:
    """The 345 Quick, Draw! categories, as Google names its files."""
    text = resources.files("inkcast.data").joinpath("categories.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def resolve_categories(spec: str) -> tuple[str, ...]:
    """``"all"`` or comma-separated names -> names, each checked against the 345."""
    known = category_names()
    if spec.strip() == "all":
        return tuple(known)
    names = tuple(n.strip() for n in spec.split(",") if n.strip())
    if not names:
        raise OptionsError("no categories given: name some (comma-separated) or say all")
    for n in names:
        if n not in known:
            hint = get_close_matches(n, known, n=3)
            raise OptionsError(f"{n!r} is not a Quick, Draw! category" + (f"; did you mean {hint}?" if hint else ""))
    return names


def url_of(category: str, format: str, base_url: str = BASE_URL) -> str:
    if format not in LAYOUT:
        raise OptionsError(f"cannot download format {format!r}; choose one of {', '.join(LAYOUT)}")
    folder, suffix = LAYOUT[format]
    return f"{base_url.rstrip('/')}/{folder}/{quote(category)}{suffix}"


class Progress:
    """Bytes and files done, shown as one rewritten line on a terminal, else a line per file."""

    def __init__(self, total_files: int, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total, self.done, self.bytes = total_files, 0, 0
        self.start = time.monotonic()
        self.lock = threading.Lock()

    def add_bytes(self, n: int) -> None:
        with self.lock:
            self.bytes += n
            if self.tty:
                self._line("\r")

    def file_done(self, name: str, note: str) -> None:
        with self.lock:
            self.done += 1
            if self.tty:
                self._line("\r")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"[{self.done}/{self.total}] {name}: {note}\n")
            self.stream.flush()

    def _line(self, prefix: str) -> None:
        secs = max(time.monotonic() - self.start, 1e-6)
        self.stream.write(f"{prefix}{self.done}/{self.total} files, {self.bytes / 1e6:,.1f} MB, "
                          f"{self.bytes / 1e6 / secs:,.1f} MB/s   ")
        self.stream.flush()


def _fetch(url: str, part: Path, o: DownloadOptions, progress: Progress) -> None:
    """Bring ``part`` to the whole file at ``url``, resuming from its current size."""
    attempt = 0
    while True:
        have = part.stat().st_size if part.exists() else 0
        req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(req, timeout=o.timeout_seconds) as resp:
                if resp.status == 206:
                    start = int(resp.headers.get("Content-Range", "bytes 0-").split()[1].split("-")[0])
                    if start != have:
                        raise DownloadError(f"{url}: asked for bytes from {have}, the server sent from {start}")
                    mode = "ab"
                else:  # 200: the server ignores ranges, so the file starts over
                    mode, have = "wb", 0
                expected = resp.headers.get("Content-Length")
                got = 0
                with open(part, mode) as f:
                    while chunk := resp.read(o.chunk_bytes):
                        f.write(chunk)
                        got += len(chunk)
                        progress.add_bytes(len(chunk))
                    f.flush()
                    os.fsync(f.fileno())
                if expected is not None and got < int(expected):
                    raise http.client.IncompleteRead(b"", int(expected) - got)
                return
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:  # nothing past what we have: it is whole, or stale
                part.unlink()
            elif e.code < 500 and e.code != 429:
                raise DownloadError(f"{url}: HTTP {e.code} {e.reason}") from None
            error = f"HTTP {e.code} {e.reason}"
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            if is_disk_full(e):
                raise DownloadError(f"{url}: no space left on the device writing {part} ({part.stat().st_size:,} "
                                    "bytes kept): free space and run again to resume") from None
            error = f"{type(e).__name__}: {getattr(e, 'reason', None) or e}"
        if attempt >= o.retries:
            raise DownloadError(f"{url}: gave up after {attempt + 1} attempts (last: {error})")
        time.sleep(o.backoff_seconds * 2 ** attempt)
        attempt += 1


def download_one(category: str, out: Path, o: DownloadOptions, progress: Progress) -> Path:
    """One category file into ``out``: fetched (resumed), parsed whole, then renamed into place."""
    folder, suffix = LAYOUT[o.format]
    final = out / f"{category}{suffix}"
    if final.exists():
        progress.file_done(final.name, "already there")
        return final
    url = url_of(category, o.format, o.base_url)
    part = out / PARTIAL / f"{category}{suffix}.part"
    for fresh in (False, True):
        if fresh:
            part.unlink(missing_ok=True)  # it did not parse: once more from the first byte
        try:
            _fetch(url, part, o, progress)
        except DownloadError as e:
            raise DownloadError(f"category {category!r}: {e}") from None
        try:
            n = sum(1 for _ in read_file(part, o.format, word=category, simplify_raw=False))
        except BadInputError as e:
            if fresh:
                part.unlink(missing_ok=True)
                raise DownloadError(f"category {category!r}: {url}: the downloaded file is not valid {o.format} "
                                    f"data ({e})") from None
            continue
        os.replace(part, final)
        progress.file_done(final.name, f"{n:,} drawings, {final.stat().st_size / 1e6:,.1f} MB")
        return final
    raise AssertionError("unreachable")


def download(options: DownloadOptions, out_dir: str | Path, stream=None) -> list[Path]:
    """Every category of ``options`` into ``out_dir``; returns the files. Files already there are
    kept; failures are reported together after the others finished (they stay resumable)."""
    if options.format not in LAYOUT:
        raise OptionsError(f"cannot download format {options.format!r}; choose one of {', '.join(LAYOUT)}")
    if not options.categories:
        raise OptionsError("no categories to download")
    out = Path(out_dir)
    (out / PARTIAL).mkdir(parents=True, exist_ok=True)
    progress = Progress(len(options.categories), stream)
    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        futures = [pool.submit(download_one, c, out, options, progress) for c in options.categories]
    done, failed = [], []
    for f in futures:
        try:
            done.append(f.result())
        except DownloadError as e:
            failed.append(str(e))
    if failed:
        raise DownloadError(f"{len(failed)} of {len(futures)} files failed (run again to resume):\n  "
                            + "\n  ".join(failed))
    try:
        (out / PARTIAL).rmdir()
    except OSError:
        pass
    return done
