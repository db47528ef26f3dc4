"""Writing inkcast's own files atomically, and reading its JSON back with a clear error.

Every output goes to a temporary name in the target's folder, is fsynced, then renamed into place:
a crash leaves the old file or the new one, never half of either.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator

DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # no room to write: retrying cannot help


def is_disk_full(e: BaseException | None) -> bool:
    """``e``, or an exception it came from, is a full disk: an OSError with a ``DISK_FULL``
    errno, or TensorFlow's message for one (TFDS wraps it in a RuntimeError)."""
    while e is not None:
        if (isinstance(e, OSError) and e.errno in DISK_FULL) or "No space left on device" in str(e):
            return True
        e = e.__cause__ or e.__context__
    return False


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", suffix: str = "") -> Iterator[IO]:
    """A file object for ``path`` that replaces ``path`` only when the block ends without error.

    ``suffix`` ends the temporary name (NumPy picks formats by it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_open(path) as f:
        f.write(text)


def write_json_atomic(path: str | Path, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))

