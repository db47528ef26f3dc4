"""``inkcast evaluate``: each named variant of a bundle, through the public runtime, on test data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inkcast.runtime.bundle import load_bundle

from . import spec_for


def evaluate_bundle(bundle_dir: str | Path, data: str | Path | None = None,
                    variants: list[str] | None = None, unknown: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Quality of each variant (all if ``variants`` is None) on the test split of ``data`` (or of the
    run's stored split), plus the task's baselines; ``{name: {"backend": ..., **quality}}``.
    ``unknown``: a folder of other categories' drawings; each variant then also gets its open-set
    figures (``"unknown"``: AUROC, FPR95, rates at the bundle's threshold)."""
    bundle = load_bundle(bundle_dir)
    spec = spec_for(bundle.task)
    inputs = spec.load_inputs(bundle, data, None)
    other = spec.load_unknown(bundle, unknown) if unknown is not None else None
    results: dict[str, dict[str, Any]] = {}
    for name in variants or list(bundle.variants):
        bundle.variant(name)
        rt = spec.open_runtime(bundle.root, name)
        out = spec.outputs(rt, inputs)
        results[name] = {"backend": rt.backend, **spec.quality(out, inputs, None)}
        if other is not None:
            results[name]["unknown"] = spec.unknown_quality(bundle, rt, out, inputs, other)
    for name, out in spec.baselines(inputs).items():
        results[name] = {"backend": None, **spec.quality(out, inputs, None)}
    return results
