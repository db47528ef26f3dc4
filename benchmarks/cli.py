"""``inkcast bench``: measure a bundle, write the report, and optionally gate against a baseline.

Exit status: 0 = measured (and the gate passed, if one was asked for); 1 = the gate found a
regression (each is printed, naming the variant and the figure); 2 = an error (no inputs, bad
bundle, bad baseline).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

from .bench import BenchOptions, confirm_latency, run_bench
from .gate import LATENCY_FIGURES, as_dicts, compare, failed, load_baseline, make_baseline
from .latency import Plan
from .tasks import BenchDataError


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Benchmark every variant of a bundle at 1 thread and at all cores: batch-1 latency "
                     "(bare model call and public predict), throughput at batch 32, cold start and peak memory "
                     "in a fresh process, file size and accuracy drop; Keras reference rows; optional CI gate.")
    p.add_argument("bundle", nargs="?", help="bundle folder (not needed with --compare)")
    p.add_argument("--data", help="test data: a Quick, Draw! folder of <category>.ndjson (sketch) or the series CSV "
                                  "(forecast); default: the run's saved test split")
    p.add_argument("--out", help="report folder to write (report.json, report.md, benchmark.json, PNGs)")
    p.add_argument("--quick", action="store_true",
                   help="10 rounds of 32 calls, 40 drawings per category for latency (accuracy still on all), "
                        "2 cold starts, no Keras rows unless --keras")
    p.add_argument("--threads", default="1,all", help="comma-separated thread settings (default: 1,all)")
    p.add_argument("--reference", help="variant that latency ratios are taken against (default: tflite-float32)")
    p.add_argument("--keras", action=argparse.BooleanOptionalAction, default=None,
                   help="measure the Keras reference rows (default: yes, except with --quick)")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 16, quick 10)")
    p.add_argument("--per-round", type=int, help="batch-1 calls per configuration per round (default 128, quick 32)")
    p.add_argument("--coldstart-repeats", type=int, help="fresh processes per configuration (default 5, quick 2)")
    p.add_argument("--per-category", type=int,
                   help="test drawings per category for latency and throughput (default: all; quick 40)")
    p.add_argument("--accuracy-per-category", type=int,
                   help="test drawings per category for accuracy (default: all, in quick mode too)")
    p.add_argument("--baseline", help="baseline JSON (from --write-baseline, or a report.json) to gate against")
    p.add_argument("--max-regression", type=float, default=0.15,
                   help="allowed relative increase of each ratio figure (default 0.15)")
    p.add_argument("--max-drop-increase", type=float, default=1.0,
                   help="allowed increase of the accuracy drop, in points (default 1.0)")
    p.add_argument("--gate-clock", choices=["cpu", "wall"], default="cpu",
                   help="gate the ratios of the calling thread's CPU time (default; robust on a shared machine) "
                        "or of wall time")
    p.add_argument("--no-confirm", action="store_true",
                   help="fail on the first measurement; by default a latency regression is re-measured once")
    p.add_argument("--write-baseline", help="also write this run's gated figures as a baseline file")
    p.add_argument("--compare", metavar="REPORT_JSON",
                   help="do not measure: gate an existing report.json against --baseline")
    p.add_argument("--make-baseline", nargs="+", metavar="REPORT_JSON",
                   help="do not measure: write --write-baseline from these report.json files "
                        "(each figure = its median over the runs)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def _progress(quiet: bool):
    t0 = time.monotonic()

    def say(msg: str) -> None:
        if not quiet:
            print(f"[bench {time.monotonic() - t0:5.0f}s] {msg}", file=sys.stderr, flush=True)

    return say


def _gate(report: dict, args: argparse.Namespace, context: dict | None, say) -> dict:
    base = load_baseline(args.baseline)
    findings = compare(report, base, args.max_regression, args.max_drop_increase, args.gate_clock)
    fails = failed(findings)
    confirmation = None
    latency_fails = [f for f in fails if f.figure in LATENCY_FIGURES]
    if latency_fails and context is not None and not args.no_confirm:
        pairs = {(f.variant, f.threads) for f in latency_fails}
        say(f"gate: {len(latency_fails)} latency figure(s) over the limit; measuring "
            f"{', '.join(f'{v}@{t}' for v, t in sorted(pairs))} again in fresh rounds to confirm")
        fresh = confirm_latency(context, pairs, say)
        second = copy.deepcopy(report)
        for v, per in fresh.items():
            for t, figs in per.items():
                second["variants"][v]["threads"][t]["ratios"] = figs["ratios"]
        again = {(f.variant, f.threads, f.figure): f for f in failed(
            compare(second, base, args.max_regression, args.max_drop_increase, args.gate_clock))}
        confirmed = [again[(f.variant, f.threads, f.figure)] for f in latency_fails
                     if (f.variant, f.threads, f.figure) in again]
        cleared = len(latency_fails) - len(confirmed)
        fails = [f for f in fails if f.figure not in LATENCY_FIGURES] + confirmed
        confirmation = (f"{len(latency_fails)} latency figure(s) were over the limit in the first measurement; "
                        f"re-measured: {len(confirmed)} confirmed, {cleared} within tolerance (noise)")
        report["confirmation_run"] = {v: {t: f["ratios"] for t, f in per.items()} for v, per in fresh.items()}
        say("gate: " + confirmation)
    checked = sum(1 for f in findings if f.status in ("ok", "improved", "regressed"))
    return {"baseline": str(args.baseline), "clock": args.gate_clock, "max_regression": args.max_regression,
            "max_drop_increase": args.max_drop_increase, "passed": not fails, "checked": checked,
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


def bench_cli(args: argparse.Namespace) -> int:
    say = _progress(args.quiet)
    if args.make_baseline:
        if not args.write_baseline:
            raise ValueError("--make-baseline needs --write-baseline OUT.json")
        reports = [json.loads(Path(p).read_text(encoding="utf-8")) for p in args.make_baseline]
        Path(args.write_baseline).write_text(json.dumps(make_baseline(reports), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.write_baseline} from {len(reports)} report(s)")
        return 0
    if args.compare:
        if not args.baseline:
            raise ValueError("--compare needs --baseline")
        report = json.loads(Path(args.compare).read_text(encoding="utf-8"))
        gate = _gate(report, args, None, say)
        _print_gate(gate)
        return 0 if gate["passed"] else 1
    if not args.bundle or not args.out:
        raise ValueError("bench needs a BUNDLE folder and --out REPORT_DIR")
    opts = BenchOptions.for_mode(
        args.quick, data=args.data, keras=args.keras, reference=args.reference,
        threads=tuple(t.strip() for t in args.threads.split(",") if t.strip()),
        per_category=args.per_category, accuracy_per_category=args.accuracy_per_category,
        coldstart_repeats=args.coldstart_repeats)
    if args.rounds or args.per_round:
        opts.plan = Plan(**{**opts.plan.__dict__, **({"rounds": args.rounds} if args.rounds else {}),
                            **({"per_round": args.per_round} if args.per_round else {})})
    try:
        report, context = run_bench(args.bundle, opts, say)
    except BenchDataError:
        raise
    except RuntimeError as e:
        raise ValueError(str(e)) from None
    gate = _gate(report, args, context, say) if args.baseline else None
    from .report import write_all

    out = Path(args.out)
    paths = write_all(report, out, gate)
    if args.write_baseline:
        Path(args.write_baseline).parent.mkdir(parents=True, exist_ok=True)
        Path(args.write_baseline).write_text(json.dumps(make_baseline(report), indent=2) + "\n", encoding="utf-8")
        paths.append(Path(args.write_baseline))
    _print_summary(report)
    print("wrote " + ", ".join(str(p) for p in paths))
    if gate is not None:
        _print_gate(gate)
        return 0 if gate["passed"] else 1
    return 0
