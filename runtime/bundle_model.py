"""What every runtime model object does first: open a bundle, pick a variant, load its file.

``SketchRecognizer`` and ``Forecaster`` derive from :class:`BundleModel` and add their task's
preprocessing and answers; the checks of the bundle live here once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .backends import BACKENDS, open_model
from .bundle import Bundle, load_bundle
from .errors import BundleError, OptionsError, deprecated


class BundleModel:
    """One variant of a bundle of ``task``, loaded with its backend.

    ``backend`` picks the engine ("tflite" or "onnx") and with it that engine's float32 variant;
    ``variant`` picks any variant by its manifest name (e.g. "tflite-int8") and overrides
    ``backend`` (``format=`` is its old name, deprecated). The manifest, the bundle's small files and the chosen model file are checked
    against their sha256 on load (the model file unless ``verify=False``). ``signed_by``: an EC
    public key (PEM); the bundle must then carry a valid ``bundle.sig`` made with its private key
    (checked with OpenSSF model-signing, imported only then: ``pip install 'inkcast[sign]'``).
    ``model`` is the loaded file: ``run(x)`` on a float32 batch, ``invoke_one(x)`` on one sample.
    """

    task = ""  # the manifest's task a subclass reads

    def __init__(self, bundle_dir: str | Path, backend: str = "tflite", variant: str | None = None,
                 num_threads: int | None = None, verify: bool = True, signed_by: str | Path | None = None,
                 *, format: str | None = None):
        if format is not None:
            deprecated("format=", "variant=")
            variant = variant or format
        if backend not in BACKENDS:
            raise OptionsError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if signed_by is not None:
            from inkcast.signing import verify_bundle  # optional dependency, only when asked for

            verify_bundle(bundle_dir, signed_by)
        self.bundle: Bundle = load_bundle(bundle_dir, task=self.task)
        if "preprocessing" not in self.bundle.manifest:
            raise BundleError(f"{self.bundle.root}: the manifest has no 'preprocessing' field")
        self.variant: str = variant or self.bundle.default_variant(backend)
        entry = self.bundle.variant(self.variant)
        self.backend: str = entry["backend"]
        self.path: Path = self.bundle.path_of(self.variant, verify=verify)
        self.model: Any = open_model(self.path, self.backend, num_threads, entry.get("quantization"))

    @property
    def format(self) -> str:
        """The variant's name (deprecated: ``variant``)."""
        deprecated("format", "variant")
        return self.variant

    @property
    def manifest(self) -> dict[str, Any]:
        return self.bundle.manifest
