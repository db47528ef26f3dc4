"""Test helpers for bundles: the small forecast run's settings, and ``rewrite_manifest``, which
rewrites a bundle's manifest and re-seals it (a new manifest.sha256), as a tool that edits a
manifest on purpose would, so a test reaches the checks behind the integrity check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inkcast.runtime.bundle import MANIFEST, MANIFEST_DIGEST, digest_line

# the small real forecast run the suite trains once (conftest.forecast_run) and the variants exported
FORECAST_FORMATS = ("tflite-float32", "onnx-float32", "tflite-dynamic-int8", "onnx-dynamic-int8", "tflite-int8")
FORECAST_SMALL = dict(head="auto", max_epochs=3, patience=3, lstm_units=8, conv_filters=8, seed=7, ensemble=2)


def rewrite_manifest(bundle: Path, manifest: dict[str, Any] | str) -> None:
    data = (manifest if isinstance(manifest, str) else json.dumps(manifest)).encode("utf-8")
    (bundle / MANIFEST).write_bytes(data)
    (bundle / MANIFEST_DIGEST).write_text(digest_line(data), encoding="ascii")
