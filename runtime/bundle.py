"""Reading a bundle folder: its manifest, and each model file checked against its sha256.

A bundle is a folder holding ``manifest.json`` and one file per exported variant. The manifest is
the device's whole contract: task, labels, preprocessing, tensor names/shapes/dtypes, and per
variant its file, backend, checksum, quantization parameters and the accuracy measured at export.

Integrity: every byte a bundle holds is covered by a sha256. ``manifest.sha256`` (``sha256sum``'s
format, so ``sha256sum -c manifest.sha256`` checks it too) holds the digest of ``manifest.json``'s
exact bytes; the manifest holds the digest of each model file (``variants.*.sha256``) and of every
other file (``files``). Loading checks the manifest, the small files and the variant it opens;
:meth:`Bundle.verify_all` checks every file. Bundles written before ``manifest.sha256`` existed
load as before (``Bundle.manifest_sealed`` is False): their model files are still checked, their
manifest and small files are not.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BundleError

MANIFEST = "manifest.json"
MANIFEST_DIGEST = "manifest.sha256"
FORMAT_VERSION = 1


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digest_line(data: bytes, name: str = MANIFEST) -> str:
    """The ``manifest.sha256`` text for a manifest's bytes: ``<sha256>  manifest.json``."""
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n"


def read_json_object(path: Path, error: type[Exception], what: str, data: bytes | None = None) -> dict[str, Any]:
    """The JSON object in ``path`` (or in its bytes ``data``, already read); else ``error`` naming
    the file and ``what`` it should hold."""
    try:
        text = (Path(path).read_bytes() if data is None else data).decode("utf-8")
        obj = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise error(f"{path}: {what} is not valid JSON ({e})") from None
    except RecursionError:
        raise error(f"{path}: {what} is nested too deeply to be a manifest") from None
    if not isinstance(obj, dict):
        raise error(f"{path}: {what} must be a JSON object")
    return obj


@dataclass
class Bundle:
    """A loaded manifest and the folder it came from."""

    root: Path
    manifest: dict[str, Any]
    manifest_sealed: bool = True  # False: made before manifest.sha256, the manifest is unchecked

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

    def check_file(self, name: str, expected: str, what: str, verify: bool = True) -> Path:
        """``root/name`` after checking it exists and (unless ``verify`` is False) has the sha256
        ``expected``."""
        path = self.root / name
        if not path.is_file():
            raise BundleError(f"{path}: the bundle's {what} is missing")
        if verify:
            actual = sha256_of(path)
            if actual != expected:
                raise BundleError(f"{path}: checksum mismatch for the {what} (manifest {str(expected)[:12]}..., "
                                  f"file {actual[:12]}...): the file was altered or corrupted")
        return path

    def verify_all(self) -> list[str]:
        """Check every file the manifest lists (each variant's model, each other file); returns
        the names checked. The first mismatch raises ``BundleError`` naming the file."""
        names = [MANIFEST] + ([MANIFEST_DIGEST] if self.manifest_sealed else [])
        for name in self.variants:
            names.append(self.path_of(name).name)
        for name, digest in self.manifest.get("files", {}).items():
            self.check_file(name, digest, f"file {name!r}")
            names.append(name)
        return names

    def path_of(self, name: str, verify: bool = True) -> Path:
        """The model file of a variant, after checking that it exists and matches its sha256."""
        v = self.variant(name)
        return self.check_file(v["file"], v["sha256"], f"file for variant {name!r}", verify)


def load_bundle(root: str | Path, task: str | None = None) -> Bundle:
    """Read and sanity-check ``root/manifest.json``; ``task`` (if given) must match."""
    root = Path(root)
    if not root.is_dir():
        raise BundleError(f"{root}: not a bundle folder (it does not exist or is not a directory)")
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise BundleError(f"{mpath}: the bundle has no manifest.json")
    data = mpath.read_bytes()
    dpath = root / MANIFEST_DIGEST
    sealed = dpath.exists()
    if sealed:
        try:
            recorded = dpath.read_bytes().decode("ascii")
        except (OSError, UnicodeDecodeError):
            recorded = None
        if recorded is None or len(recorded) != 64 + 2 + len(MANIFEST) + 1 \
                or recorded.count("  ") != 1 or not recorded.endswith(f"  {MANIFEST}\n"):
            raise BundleError(f"{dpath}: not a sha256 line for {MANIFEST} (the file was altered or corrupted)")
        if recorded != digest_line(data):
            raise BundleError(f"{mpath}: checksum mismatch with {MANIFEST_DIGEST} (recorded {recorded[:12]}..., "
                              f"manifest {digest_line(data)[:12]}...): the manifest was altered or corrupted")
    manifest = read_json_object(mpath, BundleError, "the manifest", data)
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
            if not isinstance(v, dict) or key not in v:
                raise BundleError(f"{mpath}: variant {name!r} has no {key!r} field")
    files = manifest.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(d, str) for k, d in files.items()):
        raise BundleError(f"{mpath}: the manifest's 'files' field must map file names to sha256 digests")
    bundle = Bundle(root=root, manifest=manifest, manifest_sealed=sealed)
    for name, digest in files.items():  # small files (labels, reports): cheap to check on every load
        bundle.check_file(name, digest, f"file {name!r}")
    return bundle
