"""Reading a bundle folder: its manifest, and each model file checked against its sha256.

A bundle is a folder holding ``manifest.json`` and one file per exported variant. The manifest is
the device's whole contract: task, labels, preprocessing, tensor names/shapes/dtypes, and per
variant its file, backend, checksum, quantization parameters and the accuracy measured at export.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BundleError

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_json_object(path: Path, error: type[Exception], what: str) -> dict[str, Any]:
    """The JSON object in ``path``; else ``error`` naming the file and ``what`` it should hold."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise error(f"{path}: {what} is not valid JSON ({e})") from None
    if not isinstance(obj, dict):
        raise error(f"{path}: {what} must be a JSON object")
    return obj


@dataclass
class Bundle:
    """A loaded manifest and the folder it came from."""

    root: Path
    manifest: dict[str, Any]

    @property
    def task(self) -> str:
        return self.manifest["task"]

    @property
    def variants(self) -> dict[str, dict[str, Any]]:
        return self.manifest["variants"]

    def variant(self, name: str) -> dict[str, Any]:
        if name not in self.variants:
            raise BundleError(
                f"{self.root}: no variant {name!r} in the bundle; it has {', '.join(sorted(self.variants))}"
            )
        return self.variants[name]

    def default_variant(self, backend: str) -> str:
        """The float32 variant for a backend (the reference every other variant is measured against)."""
        name = f"{backend}-float32"
        if name in self.variants:
            return name
        for n, v in self.variants.items():
            if v.get("backend") == backend:
                return n
        raise BundleError(f"{self.root}: the bundle has no variant for backend {backend!r}")

    def path_of(self, name: str, verify: bool = True) -> Path:
        """The model file of a variant, after checking that it exists and matches its sha256."""
        v = self.variant(name)
        path = self.root / v["file"]
        if not path.is_file():
            raise BundleError(f"{path}: the bundle's file for variant {name!r} is missing")
        if verify:
            actual = sha256_of(path)
            if actual != v["sha256"]:
                raise BundleError(
                    f"{path}: checksum mismatch for variant {name!r} (manifest {v['sha256'][:12]}..., "
                    f"file {actual[:12]}...): the file was altered or corrupted"
                )
        return path


def load_bundle(root: str | Path, task: str | None = None) -> Bundle:
    """Read and sanity-check ``root/manifest.json``; ``task`` (if given) must match."""
    root = Path(root)
    if not root.is_dir():
        raise BundleError(f"{root}: not a bundle folder (it does not exist or is not a directory)")
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise BundleError(f"{mpath}: the bundle has no manifest.json")
    manifest = read_json_object(mpath, BundleError, "the manifest")
    for key in ("format_version", "task", "variants"):
        if key not in manifest:
            raise BundleError(f"{mpath}: the manifest has no {key!r} field")
    if manifest["format_version"] != FORMAT_VERSION:
        raise BundleError(
            f"{mpath}: manifest format {manifest['format_version']!r}, this runtime reads {FORMAT_VERSION}"
        )
    if task is not None and manifest["task"] != task:
        raise BundleError(f"{mpath}: this is a {manifest['task']!r} bundle, expected a {task!r} bundle")
    if not isinstance(manifest["variants"], dict) or not manifest["variants"]:
        raise BundleError(f"{mpath}: the manifest lists no variants")
    for name, v in manifest["variants"].items():
        for key in ("file", "backend", "sha256"):
            if key not in v:
                raise BundleError(f"{mpath}: variant {name!r} has no {key!r} field")
    return Bundle(root=root, manifest=manifest)
