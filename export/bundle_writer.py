"""Writing a bundle folder atomically: at every instant the path holds the old bundle or the new
one, whole; a crash (``kill -9``, a full disk) never leaves half of either.

Files are written into a hidden sibling temporary folder and fsynced, ``manifest.json`` and its
digest last. Then, on Linux, the two folders are swapped in one ``renameat2(RENAME_EXCHANGE)``
call and the old one removed. Where that call does not exist, the old bundle is renamed aside and
the new one renamed into place: a crash between the two renames leaves the old bundle whole under
its hidden ``.NAME.old-*`` name, which the next write of the bundle puts back first.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import sys
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Mapping

from inkcast.data.files import is_disk_full
from inkcast.runtime.bundle import MANIFEST, MANIFEST_DIGEST, digest_line

from .errors import BundleWriteError


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``, glibc >= 2.28); False where unsupported.

    Written by hand with ctypes: Python's ``os`` has no ``renameat2`` and no maintained package
    offers it; it is the one call that replaces a non-empty folder without a gap."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):  # kernel or filesystem lacks it
        return False
    raise OSError(err, f"cannot swap {a} and {b}: {os.strerror(err)}")


def restore_interrupted(out: Path) -> None:
    """Put back a bundle left aside by a write interrupted between its two renames (the
    fallback path), and remove temporary folders of interrupted writes."""
    olds = sorted(out.parent.glob(f".{out.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds and not out.exists():
        os.replace(olds[-1], out)
        olds = olds[:-1]
    for p in olds + list(out.parent.glob(f".{out.name}.tmp-*")):
        shutil.rmtree(p, ignore_errors=True)


def _write_synced(path: Path, data: bytes) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:  # a failed write() names no file: name it
        raise OSError(e.errno, e.strerror, str(path)) from None


def write_bundle(out_dir: str | Path, files: Mapping[str, bytes | Path], manifest: dict[str, Any],
                 extra_text: Mapping[str, str] | None = None) -> Path:
    """Write ``files`` (name -> bytes or a path to copy), text files and ``manifest.json``."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    restore_interrupted(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a bundle is an ordinary folder
    try:
        for name, content in files.items():
            target = tmp / name
            _write_synced(target, bytes(content) if isinstance(content, (bytes, bytearray))
                          else Path(content).read_bytes())
        digests = {}
        for name, text in (extra_text or {}).items():
            data = text.encode("utf-8")
            _write_synced(tmp / name, data)
            digests[name] = hashlib.sha256(data).hexdigest()
        data = (json.dumps({**manifest, "files": digests}, indent=2) + "\n").encode("utf-8")
        _write_synced(tmp / MANIFEST, data)
        _write_synced(tmp / MANIFEST_DIGEST, digest_line(data).encode("ascii"))
        _fsync_dir(tmp)
        if out.is_dir() and _exchange(tmp, out):
            _fsync_dir(out.parent)
            shutil.rmtree(tmp, ignore_errors=True)  # now the old bundle
        else:
            old = None
            if out.exists():
                old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
                os.replace(out, old)
            os.replace(tmp, out)
            _fsync_dir(out.parent)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        kept = "the previous bundle is unchanged" if out.exists() else "no bundle was written"
        if is_disk_full(e):
            raise BundleWriteError(f"{out}: no space left on the device while writing "
                                   f"{Path(e.filename).name if e.filename else 'the bundle'}; {kept}") from None
        raise BundleWriteError(f"{out}: cannot write the bundle ({e.strerror}: {e.filename}); {kept}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
