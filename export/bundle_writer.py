"""Writing a bundle folder atomically: a crash leaves either the old bundle or none, never half.

Files are written into a hidden sibling temporary folder and fsynced; then the old bundle (if
any) is renamed aside, the new one renamed into place, and the old one removed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Mapping

from inkcast.runtime.bundle import MANIFEST


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bundle(out_dir: str | Path, files: Mapping[str, bytes | Path], manifest: dict[str, Any],
                 extra_text: Mapping[str, str] | None = None) -> Path:
    """Write ``files`` (name -> bytes or a path to copy), text files and ``manifest.json``."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a bundle is an ordinary folder
    try:
        for name, content in files.items():
            target = tmp / name
            if isinstance(content, (bytes, bytearray)):
                with open(target, "wb") as f:
                    f.write(content)
                    f.flush()
                    os.fsync(f.fileno())
            else:
                shutil.copyfile(content, target)
        for name, text in (extra_text or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        with open(tmp / MANIFEST, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(tmp)
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(out, old)
        os.replace(tmp, out)
        _fsync_dir(out.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
