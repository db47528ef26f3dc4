"""Test helper: rewrite a bundle's manifest and re-seal it (a new manifest.sha256), as a tool that
edits a manifest on purpose would, so a test reaches the checks behind the integrity check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inkcast.runtime.bundle import MANIFEST, MANIFEST_DIGEST, digest_line


def rewrite_manifest(bundle: Path, manifest: dict[str, Any] | str) -> None:
    data = (manifest if isinstance(manifest, str) else json.dumps(manifest)).encode("utf-8")
    (bundle / MANIFEST).write_bytes(data)
    (bundle / MANIFEST_DIGEST).write_text(digest_line(data), encoding="ascii")
