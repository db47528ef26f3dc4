"""What ``inkcast bench`` does: measure a bundle, write the report, gate it against a baseline.

``bench(bundle, out, BenchOptions, GateOptions)``, ``gate_report(report.json, GateOptions)`` and
``write_baseline_from(reports, out)`` return the exit status: 0 = measured (and the gate passed,
if one was asked for); 1 = the gate found a regression (each is printed, naming the variant and
the figure). Errors (no inputs, bad bundle, bad baseline) raise.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .bench import BenchOptions, confirm_latency, run_bench
from .gate import LATENCY_FIGURES, as_dicts, compare, failed, load_baseline, make_baseline


@dataclass
class GateOptions:
    """The CI gate: which baseline, how much each ratio figure may grow, which clock."""

    baseline: str | None = None  # None: no gate
    max_regression: float = 0.15  # allowed relative increase of each ratio figure
    max_drop_increase: float = 1.0  # allowed increase of the accuracy drop, in points
    clock: str = "cpu"  # "cpu": the calling thread's CPU time; "wall"
    confirm: bool = True  # re-measure a latency regression once before failing on it



def _progress(quiet: bool):
    t0 = time.monotonic()

    def say(msg: str) -> None:
        if not quiet:
            print(f"[bench {time.monotonic() - t0:5.0f}s] {msg}", file=sys.stderr, flush=True)

    return say


def _gate(report: dict, g: GateOptions, context: dict | None, say) -> dict:
    base = load_baseline(g.baseline)
    findings = compare(report, base, g.max_regression, g.max_drop_increase, g.clock)
    fails = failed(findings)
    confirmation = None
    latency_fails = [f for f in fails if f.figure in LATENCY_FIGURES]
    if latency_fails and context is not None and g.confirm:
        pairs = {(f.variant, f.threads) for f in latency_fails}
        say(f"gate: {len(latency_fails)} latency figure(s) over the limit; measuring "
            f"{', '.join(f'{v}@{t}' for v, t in sorted(pairs))} again in fresh rounds to confirm")
        fresh = confirm_latency(context, pairs, say)
        second = copy.deepcopy(report)
        for v, per in fresh.items():
            for t, figs in per.items():
                second["variants"][v]["threads"][t]["ratios"] = figs["ratios"]
        again = {(f.variant, f.threads, f.figure): f for f in failed(
            compare(second, base, g.max_regression, g.max_drop_increase, g.clock))}
        confirmed = [again[(f.variant, f.threads, f.figure)] for f in latency_fails
                     if (f.variant, f.threads, f.figure) in again]
        cleared = len(latency_fails) - len(confirmed)
        fails = [f for f in fails if f.figure not in LATENCY_FIGURES] + confirmed
        confirmation = (f"{len(latency_fails)} latency figure(s) were over the limit in the first measurement; "
                        f"re-measured: {len(confirmed)} confirmed, {cleared} within tolerance (noise)")
        report["confirmation_run"] = {v: {t: f["ratios"] for t, f in per.items()} for v, per in fresh.items()}
        say("gate: " + confirmation)
    checked = sum(1 for f in findings if f.status in ("ok", "improved", "regressed"))
    return {"baseline": str(g.baseline), "clock": g.clock, "max_regression": g.max_regression,
            "max_drop_increase": g.max_drop_increase, "passed": not fails, "checked": checked,
            "failures": [f.describe() for f in fails], "confirmation": confirmation,
            "baseline_machine": base.get("machine", {}).get("cpu_model"),
            "baseline_settings": base.get("settings"), "findings": as_dicts(findings)}


def _print_summary(report: dict) -> None:
    ref = report["settings"]["reference_variant"]
    metric = report["settings"].get("quality_metric", "top1")
    print(f"{'variant':18s} {'thr':>3s} {'invoke p50':>10s} {'predict p50':>11s} {'pred/ref':>8s} "
          f"{'b32 ms/it':>9s} {'cold ms':>8s} {'peak MB':>8s} {'size KB':>8s} {metric:>6s} {'drop':>6s}")
    for name, v in report["variants"].items():
        q = v["quality"]
        for t, tv in v["threads"].items():
            r = tv["ratios"].get("predict_p50_ratio")
            print(f"{name:18s} {tv['num_threads']:3d} {tv['invoke']['p50_ms']:8.3f}ms {tv['predict']['p50_ms']:9.3f}ms "
                  f"{(r['value'] if r else 1.0):8.3f} {tv['batch']['ms_per_item']:9.3f} "
                  f"{tv['cold_start']['process_ms']['median']:8.0f} {tv['cold_start']['peak_rss_mb']['median']:8.1f} "
                  f"{v['size_bytes'] / 1e3:8.1f} {q.get('value', q.get('top1', float('nan'))):6.3g} "
                  f"{q.get('drop_points', 0):+6.2f}")
    for t, k in report["reference_rows"]["keras"].get("threads", {}).items():
        print(f"{'keras model(x)':18s} {k['num_threads']:3d} {k['keras_call']['p50_ms']:8.3f}ms "
              f"{'(predict ' + format(k['keras_predict']['p50_ms'], '.1f') + ' ms)':>20s}")
    print(f"(ratios against {ref}; full tables in report.md)")


def _print_gate(gate: dict) -> None:
    if gate["passed"]:
        print(f"gate PASSED: {gate['checked']} figures within tolerance of {gate['baseline']}"
              + (f" ({gate['confirmation']})" if gate.get("confirmation") else ""))
        return
    print(f"gate FAILED against {gate['baseline']}:", file=sys.stderr)
    for f in gate["failures"]:
        print(f"  REGRESSION {f}", file=sys.stderr)
    if gate.get("confirmation"):
        print(f"  ({gate['confirmation']})", file=sys.stderr)


def write_baseline_from(reports: list[str], out: str) -> int:
    """A baseline file from several report.json files (each figure = its median over the runs)."""
    loaded = [json.loads(Path(p).read_text(encoding="utf-8")) for p in reports]
    _write_json(Path(out), make_baseline(loaded))
    print(f"wrote {out} from {len(loaded)} report(s)")
    return 0


def gate_report(report_json: str, g: GateOptions) -> int:
    """Gate an existing report.json against ``g.baseline`` without measuring."""
    if not g.baseline:
        raise ValueError("gating a report needs a baseline")
    report = json.loads(Path(report_json).read_text(encoding="utf-8"))
    gate = _gate(report, g, None, _progress(True))
    _print_gate(gate)
    return 0 if gate["passed"] else 1


def bench(bundle: str, out: str, options: BenchOptions, g: GateOptions | None = None,
          write_baseline: str | None = None, quiet: bool = False) -> int:
    """Measure ``bundle``, write the report to ``out``, gate it when ``g.baseline`` is set."""
    say = _progress(quiet)
    try:
        report, context = run_bench(bundle, options, say)
    except RuntimeError as e:
        raise ValueError(str(e)) from None
    gate = _gate(report, g, context, say) if g and g.baseline else None
    from .report import write_all

    paths = write_all(report, Path(out), gate)
    if write_baseline:
        _write_json(Path(write_baseline), make_baseline(report))
        paths.append(Path(write_baseline))
    _print_summary(report)
    print("wrote " + ", ".join(str(p) for p in paths))
    if gate is not None:
        _print_gate(gate)
        return 0 if gate["passed"] else 1
    return 0


def _write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")
