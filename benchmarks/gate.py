"""The CI gate: compare a run's *relative* figures with a baseline; never absolute times.

Gated figures (``figures(report)``), for every variant:

* per thread setting, latency as ratios measured side by side in the same run -- the median over
  the run's interleaved rounds of the per-round ratio (``stats.ratio_over_rounds``):
  - ``invoke_*``, ``predict_*``, ``batch_*``, ``predict_batch_*`` -- this variant's p50 over the
    reference variant's p50 (``tflite-float32`` unless ``--reference``); not for the reference;
  - ``predict_over_invoke*`` -- the public ``predict`` p50 over the bare model call's p50: the
    cost of preprocessing and the API around the model. It is gated for every variant, the
    reference too, so a slower runtime path (which all variants share, and which therefore
    cancels out of the ratios to the reference) is caught as well;
* once per variant: ``size_ratio`` (file size over the reference's) and ``drop_points`` (top-1
  drop in percentage points against the reference variant, on the same test items; for the
  forecaster the MAE increase).

Clock (``--gate-clock``): by default the ratios of the calling thread's CPU time (``*_cpu_*``
figures). On a shared machine wall time includes the time a process waits for a core; the CPU
clock does not, and interleaving cancels most of the rest. Measured on the shared 2-core machine
at load 5-9, five quick runs of the 8-variant test bundle: 83 of the 88 CPU-time figures stayed
within +10 % of their median and the worst within +16 % (tflite-int8's predict ratio, in a run
where the float32 reference itself ran 15 % faster), while wall-time ratios of the all-cores
setting moved by up to +44 %. ``--gate-clock wall`` gates the wall-time ratios instead (for a
dedicated runner); the report always shows both.

Rules: a ratio fails when ``now > baseline * (1 + max_regression)``, where a baseline made of
several runs contributes the highest of its runs (so the tolerance is added on top of the noise the
baseline itself showed, not eaten by it); the accuracy drop fails when
``now > max(baseline, 0) + max_drop_increase`` (points, compared directly; a variant that happened
to beat the reference in the baseline does not make that luck the bar). A variant present in the
baseline but absent from the run fails; a new variant is reported and passes. Figures of a thread
setting whose thread count differs from the baseline's (another number of cores) are skipped.
The CLI re-measures latency failures once, in fresh interleaved rounds, and fails only on a figure
that is over its limit both times (``bench.confirm_latency``). A baseline made from several runs
(``merge_baselines``) holds each figure's median over those runs.
"""

from __future__ import annotations

import datetime as _dt
import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from inkcast.runtime.errors import OptionsError

BASELINE_SCHEMA = "inkcast-bench-baseline/1"
CLOCK_FIGURES = {
    "cpu": ("invoke_cpu_p50_ratio", "predict_cpu_p50_ratio", "batch_cpu_p50_ratio", "predict_batch_cpu_p50_ratio",
            "predict_over_invoke_cpu"),
    "wall": ("invoke_p50_ratio", "predict_p50_ratio", "batch_p50_ratio", "predict_batch_p50_ratio",
             "predict_over_invoke"),
}
LATENCY_FIGURES = CLOCK_FIGURES["cpu"] + CLOCK_FIGURES["wall"]
ANY = "any"  # the thread key of figures that do not depend on threads


@dataclass
class Finding:
    variant: str
    threads: str
    figure: str
    status: str  # "ok", "regressed", "improved", "missing", "new", "skipped"
    baseline: float | None = None
    now: float | None = None
    limit: float | None = None
    spread: list[float] | None = None  # min-max over rounds, where the figure has rounds
    note: str = ""

    @property
    def failed(self) -> bool:
        return self.status in ("regressed", "missing")

    def describe(self) -> str:
        where = f"{self.variant}: {self.figure}" + ("" if self.threads == ANY else f" (threads={self.threads})")
        if self.status == "missing":
            return f"{where}: {self.note}"
        if self.baseline is None or self.now is None:
            return f"{where}: {self.status} {self.note}".rstrip()
        spread = f", rounds {self.spread[0]:.3f}-{self.spread[1]:.3f}" if self.spread else ""
        if self.figure == "drop_points":
            return (f"{where}: {self.baseline:+.2f} -> {self.now:+.2f} points "
                    f"(limit {self.limit:+.2f}){spread} {self.status.upper()} {self.note}").rstrip()
        change = (self.now / self.baseline - 1.0) * 100 if self.baseline else float("inf")
        return (f"{where}: {self.baseline:.3f} -> {self.now:.3f} ({change:+.1f} %, limit {self.limit:.3f})"
                f"{spread} {self.status.upper()} {self.note}").rstrip()


def figures(report: dict) -> dict[str, dict[str, dict[str, dict]]]:
    """``{variant: {threads or "any": {figure: {"value", "min", "max"}}}}`` of a report."""
    out: dict[str, dict[str, dict[str, dict]]] = {}
    for name, v in report["variants"].items():
        f: dict[str, dict[str, dict]] = {ANY: {
            "size_ratio": {"value": v["size_ratio"]},
            "drop_points": {"value": v["quality"].get("drop_points", 0.0)},
        }}
        for t, tv in v["threads"].items():
            f[t] = {}
            for key in LATENCY_FIGURES:
                r = tv["ratios"].get(key)
                if r and r.get("value") is not None:
                    f[t][key] = {"value": r["value"], "min": r["min"], "max": r["max"]}  # min-max over rounds
        out[name] = f
    return out


def make_baseline(reports: dict | list[dict], note: str = "") -> dict:
    """The slim file committed as a baseline: the gated figures and what they were measured on.

    Given several reports (runs of the same bundle and settings), each figure is the median of its
    values over the runs; ``runs`` keeps those values, so the baseline also shows run-to-run noise."""
    reports = [reports] if isinstance(reports, dict) else list(reports)
    if not reports:
        raise ValueError("make_baseline needs at least one report")
    first = reports[0]
    for r in reports[1:]:
        if r["settings"]["reference_variant"] != first["settings"]["reference_variant"] or \
                r["settings"]["threads"] != first["settings"]["threads"]:
            raise ValueError("the reports to merge have different reference variants or thread settings")
    per = [figures(r) for r in reports]
    merged: dict = {}
    for name, by_t in per[0].items():
        for t, figs in by_t.items():
            for key, f in figs.items():
                vals = [p[name][t][key]["value"] for p in per if key in p.get(name, {}).get(t, {})]
                entry = {"value": float(statistics.median(vals))}
                if len(vals) > 1:
                    entry["runs"] = vals
                elif "min" in f:
                    entry.update(min=f["min"], max=f["max"])
                merged.setdefault(name, {}).setdefault(t, {})[key] = entry
    m = first["machine"]
    return {
        "schema": BASELINE_SCHEMA,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "note": note,
        "runs": len(reports),
        "bundle": {k: first["bundle"].get(k) for k in ("path", "task", "created", "labels", "export_reference")},
        "machine": {k: m.get(k) for k in ("cpu_model", "cores_usable", "versions")},
        "load_average": [r["machine"].get("load_average_start") for r in reports],
        "settings": {k: first["settings"].get(k) for k in ("mode", "threads", "reference_variant", "plan",
                                                           "per_category", "quality_metric")},
        "inputs": {k: first["inputs"].get(k) for k in ("source", "items")},
        "figures": merged,
    }


def load_baseline(path: str | Path) -> dict:
    """A baseline file, or a full report.json (its figures are derived)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: baseline not found")
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: the baseline is not valid JSON ({e})") from None
    if d.get("schema") == BASELINE_SCHEMA:
        return d
    if "variants" in d and "settings" in d:
        return {"schema": BASELINE_SCHEMA, "settings": d["settings"], "machine": d.get("machine", {}),
                "figures": figures(d), "inputs": d.get("inputs", {})}
    raise ValueError(f"{p}: neither a benchmark baseline nor a report.json")


def compare(report: dict, baseline: dict, max_regression: float = 0.15,
            max_drop_increase: float = 1.0, clock: str = "cpu") -> list[Finding]:
    """Every gated figure of ``report`` against ``baseline``; see the module doc for the rules."""
    if max_regression < 0 or max_drop_increase < 0:
        raise OptionsError("tolerances must be >= 0")
    if clock not in CLOCK_FIGURES:
        raise OptionsError(f"unknown gate clock {clock!r}; choose one of {', '.join(CLOCK_FIGURES)}")
    ignored = set(LATENCY_FIGURES) - set(CLOCK_FIGURES[clock])
    now_f, base_f = figures(report), baseline["figures"]
    ref_now = report["settings"]["reference_variant"]
    ref_base = baseline.get("settings", {}).get("reference_variant", ref_now)
    if ref_now != ref_base:
        raise ValueError(f"the run's reference variant is {ref_now!r} but the baseline's is {ref_base!r}: "
                         "ratios against different references do not compare (pass --reference)")
    threads_now = report["settings"]["threads"]
    threads_base = baseline.get("settings", {}).get("threads", threads_now)
    found: list[Finding] = []
    for name in sorted(set(base_f) | set(now_f)):
        if name not in now_f:
            found.append(Finding(name, ANY, "variant", "missing", note="in the baseline but not measured in this run"))
            continue
        if name not in base_f:
            found.append(Finding(name, ANY, "variant", "new", note="no baseline figures yet (passes)"))
            continue
        for t, figs in base_f[name].items():
            for key, b in figs.items():
                if key in ignored:
                    continue
                n = now_f[name].get(t, {}).get(key)
                if t != ANY and threads_base.get(t) != threads_now.get(t):
                    found.append(Finding(name, t, key, "skipped", note=f"baseline threads={threads_base.get(t)}, "
                                                                         f"this run {threads_now.get(t)}"))
                    continue
                if n is None:
                    found.append(Finding(name, t, key, "missing", note="figure not measured in this run"))
                    continue
                bv, nv = float(b["value"]), float(n["value"])
                if key == "drop_points":
                    # a variant that beat the reference in the baseline (negative drop, e.g. by chance on a
                    # retrained model) does not raise the bar: the limit starts from max(baseline, 0)
                    limit = max(bv, 0.0) + max_drop_increase
                    status = "regressed" if nv > limit + 1e-9 else "ok"
                else:
                    # the tolerance applies on top of the baseline's own run-to-run spread: a baseline made
                    # of several runs holds them all, and the limit starts from the highest
                    top = max([bv] + [float(x) for x in b.get("runs", [])])
                    limit = top * (1.0 + max_regression)
                    status = "regressed" if nv > limit else ("improved" if nv < bv / (1.0 + max_regression) else "ok")
                spread = [n["min"], n["max"]] if "min" in n else None
                found.append(Finding(name, t, key, status, bv, nv, limit, spread))
    return found


def failed(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.failed]


def as_dicts(findings: list[Finding]) -> list[dict[str, Any]]:
    return [asdict(f) for f in findings]
