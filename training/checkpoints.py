"""Model weights in a run folder, written atomically (a crash leaves the old file or the new one)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def save_weights_atomic(model: Any, path: str | Path) -> None:
    """``model.save_weights`` to a temporary name beside ``path``, then renamed into place."""
    path = Path(path)
    tmp = path.parent / f".tmp-{path.name}"  # keeps the suffix: ".weights.h5" picks the format
    model.save_weights(str(tmp))
    os.replace(tmp, path)
