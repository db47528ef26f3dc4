"""``run_bench``: measure every variant of a bundle at each thread setting; returns the report dict.

Order of work: inputs -> quality of each variant -> latency/throughput rounds (all configurations
interleaved) -> cold starts (fresh processes) -> Keras reference (fresh processes). The report's
layout is documented in ``benchmarks/README.md``.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from inkcast.runtime.bundle import load_bundle
from inkcast.runtime.errors import BackendUnavailableError
from inkcast.tasks import EvalInputs, spec_for

from .coldstart import measure_coldstart
from .latency import Config, LatencyBench, Plan, open_config
from .machine import load_average, machine_info, usable_cores
from .stats import by_length, ratio_over_rounds, summarize

SCHEMA = "inkcast-bench/1"
LENGTH_EDGES = [0, 16, 32, 48, 64, 96, 128]


@dataclass
class BenchOptions:
    """Everything that decides what is measured and how long."""

    data: str | None = None
    quick: bool = False
    threads: tuple[str, ...] = ("1", "all")  # "all" = every usable core
    reference: str | None = None  # latency reference variant (default: tflite-float32)
    keras: bool | None = None  # None: on in full mode, off in --quick
    per_category: int | None = None  # latency/throughput items per category; None: all (full) / 40 (quick)
    accuracy_per_category: int | None = None  # accuracy items per category; None: every test item
    unknown: str | None = None  # sketch: a folder of other categories' drawings for the open-set figures
    plan: Plan = field(default_factory=Plan)
    coldstart_repeats: int = 5
    keras_plan: dict = field(default_factory=lambda: {"rounds": 6, "per_round": 25, "per_round_predict": 10,
                                                      "batches_per_round": 2, "batch_size": 32, "warmup": 16})
    seed: int = 0

    @classmethod
    def for_mode(cls, quick: bool, **kw) -> "BenchOptions":
        o = cls(quick=quick)
        if quick:
            o.plan = Plan(rounds=10, per_round=32, batches_per_round=1, initial_warmup=16)
            o.coldstart_repeats = 2
            o.per_category = 40
            o.keras_plan = {"rounds": 3, "per_round": 10, "per_round_predict": 5, "batches_per_round": 1,
                            "batch_size": 32, "warmup": 6}
        for k, v in kw.items():
            if v is not None:
                setattr(o, k, v)
        if o.keras is None:
            o.keras = not quick
        return o


def thread_settings(labels: tuple[str, ...]) -> list[tuple[str, int]]:
    """("1", "all") -> [("1", 1), ("all", cores)]; a setting equal to an earlier one is dropped."""
    cores = usable_cores()
    out, seen = [], set()
    for lab in labels:
        n = cores if lab == "all" else int(lab)
        if n < 1:
            raise ValueError(f"bad thread setting {lab!r}")
        if n not in seen:
            out.append((lab, n))
            seen.add(n)
    return out


def pick_reference(bundle, requested: str | None) -> str:
    if requested:
        bundle.variant(requested)
        return requested
    if "tflite-float32" in bundle.variants:
        return "tflite-float32"
    f32 = [n for n, v in bundle.variants.items() if v.get("dtype") == "float32"]
    return (f32 or list(bundle.variants))[0]


def _stats(rounds: list[list[int]]) -> dict:
    return summarize([x for r in rounds for x in r], rounds)


def config_figures(c: Config, ref: Config | None, batch_size: int) -> dict:
    """Stats, per-length latency and per-round ratios (to the reference) of one configuration."""
    s = c.samples
    out = {"num_threads": c.num_threads}
    for kind in ("invoke", "predict", "batch", "predict_batch"):
        out[kind] = _stats(s[kind])
    for kind in ("batch", "predict_batch"):
        p50 = out[kind]["p50_ms"]
        out[kind]["batch_size"] = batch_size
        out[kind]["items_per_s"] = batch_size / (p50 / 1e3) if p50 else None
        out[kind]["ms_per_item"] = p50 / batch_size
    out["batch_mode"] = (f"{batch_size} sequential invokes, each drawing at its own length (the TFLite graph has batch 1)"
                         if c.backend == "tflite" else f"one call on a left-padded ({batch_size}, T_max, F) batch")
    for kind in ("invoke", "predict", "batch", "predict_batch"):
        out[kind]["cpu_p50_ms"] = summarize([x for r in c.cpu[kind] for x in r])["p50_ms"]
    out["by_length"] = by_length(c.lengths, [x for r in s["invoke"] for x in r], LENGTH_EDGES)
    ratios = {"predict_over_invoke": ratio_over_rounds(s["predict"], s["invoke"]),
              "predict_over_invoke_cpu": ratio_over_rounds(c.cpu["predict"], c.cpu["invoke"])}
    if ref is not None:
        for kind in ("invoke", "predict", "batch", "predict_batch"):
            ratios[f"{kind}_p50_ratio"] = ratio_over_rounds(s[kind], ref.samples[kind])
            ratios[f"{kind}_cpu_p50_ratio"] = ratio_over_rounds(c.cpu[kind], ref.cpu[kind])
    out["ratios"] = ratios
    return out


def run_bench(bundle_dir: str | Path, options: BenchOptions | None = None,
              progress: Callable[[str], None] = lambda s: None) -> tuple[dict, dict]:
    """Measure; returns (report, context) -- the context keeps the opened configurations and the
    samples, for a confirmation run (``confirm_latency``); it is not written anywhere."""
    o = options or BenchOptions.for_mode(False)
    t_start = time.monotonic()
    bundle = load_bundle(bundle_dir)
    task = spec_for(bundle.task)
    machine = machine_info()
    settings_threads = thread_settings(o.threads)
    reference = pick_reference(bundle, o.reference)

    progress(f"bundle {bundle.root} (task {bundle.task}, variants: {', '.join(bundle.variants)})")
    acc_inputs: EvalInputs = task.load_inputs(bundle, o.data, o.accuracy_per_category)
    inputs = task.subset(acc_inputs, o.per_category)
    L = inputs.lengths
    progress(f"{len(acc_inputs)} test items from {acc_inputs.source} for accuracy, {len(inputs)} of them for "
             f"latency (lengths p50 {int(np.median(L))}, max {L.max()})")

    # ---- open every configuration; a backend that is not installed is reported, not fatal
    skipped: dict[str, str] = {}
    configs: list[Config] = []
    for name, v in bundle.variants.items():
        bundle.path_of(name)  # verify the checksum once
        for label, n in settings_threads:
            try:
                configs.append(open_config(task, bundle, name, label, n))
            except BackendUnavailableError as e:
                skipped[name] = str(e)
                configs = [c for c in configs if c.variant != name]
                break
    if reference in skipped or not any(c.variant == reference for c in configs):
        raise BackendUnavailableError(f"the reference variant {reference!r} cannot run here: {skipped.get(reference)}")
    measured = [n for n in bundle.variants if n not in skipped]

    # ---- quality (accuracy) of each variant on the test inputs, once (threads do not change it)
    outputs = {}
    for name in measured:
        c = next(c for c in configs if c.variant == name and c.threads == settings_threads[-1][0])
        t0 = time.monotonic()
        outputs[name] = task.outputs(c.runtime, acc_inputs)
        progress(f"quality of {name} on {len(acc_inputs)} items ({time.monotonic() - t0:.1f} s)")
    quality = {name: task.quality(outputs[name], acc_inputs, outputs[reference]) for name in measured}
    if o.unknown is not None:  # how each variant says "unknown", at the bundle's threshold
        other = task.load_unknown(bundle, o.unknown)
        for name in measured:
            c = next(c for c in configs if c.variant == name and c.threads == settings_threads[-1][0])
            quality[name]["unknown"] = task.unknown_quality(bundle, c.runtime, outputs[name], acc_inputs, other)
        progress(f"unknown: {len(other[0])} drawings of {len(set(other[1]))} other categories")

    # ---- latency and throughput, interleaved rounds
    bench = LatencyBench(task, inputs, configs, o.plan, seed=o.seed, progress=progress)
    bench.run()

    # ---- cold start
    cold = measure_coldstart(task, bundle, [(c.variant, c.backend, c.threads, c.num_threads) for c in configs],
                             inputs.public[int(bench.order[0])], o.coldstart_repeats, progress)

    # ---- Keras reference rows
    keras_rows: dict = {"skipped": "not requested (--quick without --keras, or --no-keras)"}
    if o.keras:
        from .keras_ref import run_keras_reference

        try:
            kr = run_keras_reference(bundle, inputs, bench.order, settings_threads, o.keras_plan, progress,
                                     outputs_rows=acc_inputs.rows)
            keras_rows = {"threads": kr["threads"]}
            if kr["outputs"] is not None:
                k_out = task.from_model_outputs(bundle, kr["outputs"], acc_inputs)
                keras_rows["quality"] = task.quality(k_out, acc_inputs, outputs[reference])
                for name in measured:
                    q = task.quality(outputs[name], acc_inputs, k_out)
                    quality[name]["drop_vs_keras_points"] = q["drop_points"]
                    if "agreement" in q:
                        quality[name]["agreement_with_keras"] = q["agreement"]
        except (RuntimeError, OSError) as e:
            keras_rows = {"skipped": f"the Keras reference could not run: {e}"}
            progress(keras_rows["skipped"])

    # ---- assemble
    ref_by_threads = {c.threads: c for c in configs if c.variant == reference}
    ref_size = bundle.variant(reference).get("size_bytes") or bundle.path_of(reference, verify=False).stat().st_size
    variants = {}
    for name in measured:
        v = bundle.variant(name)
        size = bundle.path_of(name, verify=False).stat().st_size
        per_threads = {}
        for c in (c for c in configs if c.variant == name):
            f = config_figures(c, ref_by_threads[c.threads] if name != reference else None, o.plan.batch_size)
            f["cold_start"] = cold[name][c.threads]
            k = keras_rows.get("threads", {}).get(c.threads)
            if k:
                f["speedup_vs_keras"] = {
                    "keras_call_over_invoke_p50": k["keras_call"]["p50_ms"] / f["invoke"]["p50_ms"],
                    "keras_predict_over_invoke_p50": k["keras_predict"]["p50_ms"] / f["invoke"]["p50_ms"],
                    "keras_graph_over_invoke_p50": k["keras_graph"]["p50_ms"] / f["invoke"]["p50_ms"],
                    "keras_call_batch_over_batch_p50": k["keras_call_batch"]["p50_ms"] / f["batch"]["p50_ms"],
                    "keras_graph_batch_over_batch_p50": k["keras_graph_batch"]["p50_ms"] / f["batch"]["p50_ms"]}
            per_threads[c.threads] = f
        variants[name] = {
            "backend": v["backend"], "dtype": v.get("dtype"), "file": v["file"], "size_bytes": size,
            "size_ratio": size / ref_size, "quality": quality[name],
            "export_accuracy": v.get("accuracy"), "threads": per_threads,
        }
    machine["load_average_end"] = load_average()
    m = bundle.manifest
    report = {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - t_start, 1),
        "bundle": {"path": str(bundle.root), "task": bundle.task, "created": m.get("created"),
                   "inkcast_version": m.get("inkcast_version"), "labels": m.get("labels"),
                   "run_dir": (m.get("training") or {}).get("run_dir"),
                   "export_reference": m.get("reference")},
        "machine": machine,
        "settings": {
            "mode": "quick" if o.quick else "full",
            "threads": {lab: n for lab, n in settings_threads},
            "reference_variant": reference,
            "plan": asdict(o.plan),
            "coldstart_repeats": o.coldstart_repeats,
            "keras": bool(o.keras), "keras_plan": o.keras_plan if o.keras else None,
            "per_category": o.per_category, "accuracy_per_category": o.accuracy_per_category, "seed": o.seed,
            "length_edges": LENGTH_EDGES,
            "quality_metric": task.quality_metric,
            "quality_higher_is_better": task.quality_higher_is_better,
        },
        "inputs": {"source": inputs.source, "items": len(inputs), "notes": inputs.notes,
                   "accuracy_source": acc_inputs.source, "accuracy_items": len(acc_inputs),
                   "length": {"min": int(L.min()), "p50": float(np.median(L)), "p95": float(np.percentile(L, 95)),
                              "max": int(L.max())}},
        "variants": variants,
        "skipped_variants": skipped,
        "unavailable_in_bundle": dict(m.get("unavailable") or {}),
        "reference_rows": {"keras": _strip_private(keras_rows)},
    }
    context = {"bench": bench, "configs": configs, "task": task, "inputs": inputs, "bundle": bundle,
               "keras": keras_rows, "options": o, "reference": reference}
    return report, context


def _strip_private(d):
    if isinstance(d, dict):
        return {k: _strip_private(v) for k, v in d.items() if not k.startswith("_")}
    return d


def confirm_latency(context: dict, pairs: set[tuple[str, str]], progress: Callable[[str], None]) -> dict:
    """Measure again, in new interleaved rounds, the configurations of ``pairs`` (variant, threads)
    together with the reference at those thread settings; returns fresh ``config_figures``
    ``{variant: {threads: figures}}``. Used by the gate before it declares a latency regression."""
    bench: LatencyBench = context["bench"]
    reference = context["reference"]
    wanted = {(v, t) for v, t in pairs} | {(reference, t) for _, t in pairs}
    fresh = [c.fresh() for c in context["configs"] if (c.variant, c.threads) in wanted]
    b2 = LatencyBench(bench.task, bench.inputs, fresh, bench.plan, seed=context["options"].seed + 1,
                      progress=progress)
    b2.run(label="confirmation")
    refs = {c.threads: c for c in fresh if c.variant == reference}
    out: dict = {}
    for c in fresh:
        out.setdefault(c.variant, {})[c.threads] = config_figures(
            c, refs[c.threads] if c.variant != reference else None, bench.plan.batch_size)
    return out
