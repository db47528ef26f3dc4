"""``inkcast bench``: latency, size and accuracy of every variant, optionally gated in CI."""

from __future__ import annotations

import argparse

from inkcast.runtime.errors import OptionsError

from .vocabulary import add_input, add_signed_by, renamed


def register(sub) -> None:
    p = sub.add_parser("bench", help="benchmark every variant of a bundle")
    p.description = ("Benchmark every variant of a bundle at 1 thread and at all cores: batch-1 latency "
                     "(bare model call and public predict), throughput at batch 32, cold start and peak memory "
                     "in a fresh process, file size and accuracy drop; Keras reference rows; optional CI gate.")
    p.add_argument("bundle", nargs="?", help="bundle folder (not needed with --compare)")
    add_input(p, "test data: a Quick, Draw! folder of <category>.ndjson (sketch) or the series CSV (forecast); "
                 "default: the run's saved test split")
    add_signed_by(p)
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
    p.add_argument("--latency-per-category", type=int,
                   help="test drawings per category for latency and throughput (default: all; quick 40)")
    renamed(p, "--per-category", "--latency-per-category", "latency_per_category", type=int)
    p.add_argument("--max-per-category", type=int,
                   help="test drawings per category for accuracy (default: all, in quick mode too)")
    renamed(p, "--accuracy-per-category", "--max-per-category", "max_per_category", type=int)
    p.add_argument("--unknown", metavar="DIR",
                   help="sketch: a folder of category files; its categories other than the bundle's labels are "
                        "unknown drawings, and each variant gets AUROC, FPR95 and the rates at its threshold")
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
    p.set_defaults(func=bench_command)


def bench_options(a: argparse.Namespace):
    from inkcast.benchmarks.bench import BenchOptions
    from inkcast.benchmarks.latency import Plan

    o = BenchOptions.for_mode(
        a.quick, data=a.data, keras=a.keras, reference=a.reference,
        threads=tuple(t.strip() for t in a.threads.split(",") if t.strip()),
        per_category=a.latency_per_category, accuracy_per_category=a.max_per_category, unknown=a.unknown,
        coldstart_repeats=a.coldstart_repeats)
    if a.rounds or a.per_round:
        o.plan = Plan(**{**o.plan.__dict__, **({"rounds": a.rounds} if a.rounds else {}),
                         **({"per_round": a.per_round} if a.per_round else {})})
    return o


def bench_command(a: argparse.Namespace) -> int:
    from inkcast.benchmarks.command import GateOptions, bench, gate_report, write_baseline_from

    g = GateOptions(baseline=a.baseline, max_regression=a.max_regression, max_drop_increase=a.max_drop_increase,
                    clock=a.gate_clock, confirm=not a.no_confirm)
    if a.make_baseline:
        if not a.write_baseline:
            raise OptionsError("--make-baseline needs --write-baseline OUT.json")
        return write_baseline_from(a.make_baseline, a.write_baseline)
    if a.compare:
        if not a.baseline:
            raise OptionsError("--compare needs --baseline")
        return gate_report(a.compare, g)
    if not a.bundle or not a.out:
        raise OptionsError("bench needs a BUNDLE folder and --out REPORT_DIR")
    if a.signed_by:
        from inkcast.signing import verify_bundle

        verify_bundle(a.bundle, a.signed_by)
    return bench(a.bundle, a.out, bench_options(a), g, a.write_baseline, a.quiet)
