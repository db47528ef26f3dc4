"""`inkcast bench`: a real quick benchmark of the test bundle, its report files, and the CI gate.

One quick benchmark (with the Keras reference rows) runs once for the module; the gate tests
compare real reports with real baselines. Nothing here asserts on how fast anything is: the gate
tests change a baseline figure and check the verdict, never a wall-clock threshold.
"""

from __future__ import annotations

import importlib.util
import json
import struct

import pytest

from inkcast.benchmarks.bench import thread_settings
from inkcast.benchmarks.gate import LATENCY_FIGURES, compare, failed, load_baseline
from inkcast.main import main
from tests.bundles import rewrite_manifest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def quick_bench(sketch_bundle, quickdraw_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    rc = main(["bench", str(sketch_bundle), str(quickdraw_dir), "--quick", "--keras",
               "--latency-per-category", "10", "--max-per-category", "40", "--rounds", "3", "--per-round", "16",
               "--coldstart-repeats", "1",
               "--out", str(out / "report"), "--write-baseline", str(out / "baseline.json")])
    assert rc == 0
    return out


@pytest.fixture(scope="module")
def report(quick_bench):
    return json.loads((quick_bench / "report" / "report.json").read_text())


# A runtime-only install (the aarch64 check's) has neither matplotlib nor TensorFlow: the bench
# then writes no figures and no Keras rows, and says so in the report; the tests expect what fits.
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
HAVE_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None


def test_quick_bench_writes_every_file(quick_bench):
    d = quick_bench / "report"
    for name in ("report.json", "report.md", "benchmark.json"):
        assert (d / name).is_file() and (d / name).stat().st_size > 0, name
    if not HAVE_MATPLOTLIB:
        assert not (d / "latency.png").exists()
        pytest.skip("matplotlib is not installed: no figures to check")
    for name in ("latency.png", "accuracy_vs_latency.png"):
        assert (d / name).is_file() and (d / name).stat().st_size > 0, name
    for png in ("latency.png", "accuracy_vs_latency.png"):
        w, h = png_size(d / png)
        assert w >= 800 and h >= 400


def test_report_has_every_variant_at_both_thread_settings(report, sketch_bundle):
    manifest = json.loads((sketch_bundle / "manifest.json").read_text())
    expected_threads = {label for label, _ in thread_settings(("1", "all"))}
    assert set(report["variants"]) == set(manifest["variants"])
    assert report["settings"]["threads"]["1"] == 1
    for name, v in report["variants"].items():
        assert set(v["threads"]) == expected_threads, name
        assert v["size_bytes"] == (sketch_bundle / manifest["variants"][name]["file"]).stat().st_size
        q = v["quality"]
        assert q["items"] == report["inputs"]["accuracy_items"] == 40 * len(manifest["labels"])
        assert report["inputs"]["items"] == 10 * len(manifest["labels"])
        assert 0 < q["top1"] <= q["top3"] <= 1
        for t, tv in v["threads"].items():
            for kind in ("invoke", "predict", "batch", "predict_batch"):
                s = tv[kind]
                assert s["n"] > 0 and 0 < s["p1_ms"] <= s["p50_ms"] <= s["p90_ms"] <= s["p99_ms"] <= s["max_ms"]
                assert len(s["round_p50_ms"]) == 3
            assert tv["invoke"]["n"] == 3 * 16
            assert sum(b["n"] for b in tv["by_length"]) == tv["invoke"]["n"]
            cs = tv["cold_start"]
            assert cs["tensorflow_imported"] is False  # the runtime never imports TensorFlow
            assert cs["process_ms"]["n"] == 1 and cs["peak_rss_mb"]["median"] > 10
            assert tv["ratios"]["predict_over_invoke"]["value"] > 0
            if name != report["settings"]["reference_variant"]:
                assert tv["ratios"]["invoke_cpu_p50_ratio"]["rounds"] == 3
    # float32 files agree with each other (export validated them against Keras)
    ref = report["settings"]["reference_variant"]
    assert report["variants"][ref]["quality"]["drop_points"] == 0
    assert report["variants"]["onnx-float32"]["quality"]["agreement"] >= 0.99
    # TFLite's batch is sequential invokes, and the report says so
    assert "sequential invokes" in report["variants"]["tflite-float32"]["threads"]["1"]["batch_mode"]


def test_keras_reference_rows_measured_in_the_same_run(report):
    k = report["reference_rows"]["keras"]
    assert "skipped" not in k, k.get("skipped")
    assert set(k["threads"]) == set(report["settings"]["threads"])
    for t, rows in k["threads"].items():
        assert rows["keras_call"]["n"] > 0 and rows["keras_predict"]["n"] > 0
        assert rows["num_threads"] == report["settings"]["threads"][t]
    assert abs(k["quality"]["top1"] - report["variants"]["tflite-float32"]["quality"]["top1"]) <= 0.011
    assert report["variants"]["onnx-float32"]["quality"]["agreement_with_keras"] >= 0.99
    assert "speedup_vs_keras" in report["variants"]["onnx-float32"]["threads"]["1"]


def test_markdown_and_github_benchmark_json(quick_bench, report):
    md = (quick_bench / "report" / "report.md").read_text()
    for name in report["variants"]:
        assert md.count(f"| {name} |") >= 8  # size, latency, throughput, cold start, by-length rows ...
    assert "sequential invokes" in md
    assert ("Keras `model(x, training=False)`" in md) == HAVE_TENSORFLOW
    entries = json.loads((quick_bench / "report" / "benchmark.json").read_text())
    assert entries and all({"name", "unit", "value"} <= set(e) for e in entries)
    assert all(isinstance(e["value"], (int, float)) for e in entries)
    names = {e["name"] for e in entries}
    for name in report["variants"]:
        for t in report["settings"]["threads"]:
            assert f"sketch/{name}/threads={t}/invoke p50" in names


def test_gate_passes_against_itself(report, quick_bench, capsys):
    base = load_baseline(quick_bench / "baseline.json")
    findings = compare(report, base, 0.15, 1.0)
    assert not failed(findings)
    assert {f.status for f in findings} <= {"ok"}
    checked = {(f.variant, f.figure) for f in findings}
    assert ("onnx-float32", "invoke_cpu_p50_ratio") in checked and ("tflite-float32", "predict_over_invoke_cpu") in checked
    assert not any(f.figure == "invoke_p50_ratio" for f in findings)  # wall-time ratios: only with --gate-clock wall
    assert not failed(compare(report, base, 0.15, 1.0, clock="wall"))
    # the same through the command, without measuring again
    rc = main(["bench", "--compare", str(quick_bench / "report" / "report.json"),
               "--baseline", str(quick_bench / "baseline.json")])
    assert rc == 0
    assert "gate PASSED" in capsys.readouterr().out


def _edited_baseline(quick_bench, tmp_path, edit):
    base = json.loads((quick_bench / "baseline.json").read_text())
    edit(base["figures"])
    p = tmp_path / "baseline.json"
    p.write_text(json.dumps(base))
    return p


def test_gate_fails_when_a_variant_was_faster_in_the_baseline(quick_bench, report, tmp_path, capsys):
    def faster(figs):
        f = figs["onnx-float32"]["1"]["invoke_cpu_p50_ratio"]
        f["value"] = f["value"] / 2  # the baseline says ONNX took half the reference's time it takes now

    p = _edited_baseline(quick_bench, tmp_path, faster)
    found = failed(compare(report, load_baseline(p), 0.15, 1.0))
    assert [(f.variant, f.threads, f.figure) for f in found] == [("onnx-float32", "1", "invoke_cpu_p50_ratio")]
    rc = main(["bench", "--compare", str(quick_bench / "report" / "report.json"), "--baseline", str(p)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "gate FAILED" in err and "onnx-float32: invoke_cpu_p50_ratio (threads=1)" in err and "REGRESSED" in err
    # a smaller change stays within the tolerance
    def slightly(figs):
        figs["onnx-float32"]["1"]["invoke_cpu_p50_ratio"]["value"] /= 1.10

    assert not failed(compare(report, load_baseline(_edited_baseline(quick_bench, tmp_path, slightly)), 0.15, 1.0))


def test_gate_fails_on_an_accuracy_drop_and_a_missing_variant(quick_bench, report, tmp_path):
    import copy

    def with_gone_variant(figs):
        figs["tflite-int4"] = {"any": {"size_ratio": {"value": 0.2}}}

    base = load_baseline(_edited_baseline(quick_bench, tmp_path, with_gone_variant))
    worse = copy.deepcopy(report)
    worse["variants"]["onnx-float32"]["quality"]["drop_points"] = 2.0  # now loses 2 points against the reference
    found = {(f.variant, f.figure, f.status) for f in failed(compare(worse, base, 0.15, 1.0))}
    assert found == {("onnx-float32", "drop_points", "regressed"), ("tflite-int4", "variant", "missing")}
    # the accuracy tolerance is in points, compared directly
    assert not [f for f in failed(compare(worse, base, 0.15, 2.5)) if f.figure == "drop_points"]
    # a variant that beat the reference in the baseline is held to max(baseline drop, 0) + tolerance
    base["figures"]["onnx-float32"]["any"]["drop_points"]["value"] = -3.0
    worse["variants"]["onnx-float32"]["quality"]["drop_points"] = 0.5
    assert not [f for f in failed(compare(worse, base, 0.15, 1.0)) if f.figure == "drop_points"]


def test_gate_measures_again_before_it_fails(sketch_bundle, quickdraw_dir, quick_bench, tmp_path, capsys):
    """End to end: measure, find the regression, confirm it with fresh rounds, exit 1 naming it."""
    def faster(figs):
        # this run measures fewer, other drawings than the baseline's: leave room on every other figure,
        # so that only the edited one can fail
        for v in figs.values():
            for t, f in v.items():
                for key in f:
                    if key in LATENCY_FIGURES:
                        f[key]["value"] *= 10
                    elif key == "drop_points":  # 1 drawing is 2 points of these 50: leave room
                        f[key]["value"] = 100.0
        figs["onnx-float32"]["1"]["predict_cpu_p50_ratio"]["value"] /= 30

    p = _edited_baseline(quick_bench, tmp_path, faster)
    rc = main(["bench", str(sketch_bundle), str(quickdraw_dir), "--quick", "--no-keras", "--quiet",
               "--threads", "1", "--latency-per-category", "5", "--max-per-category", "10", "--rounds", "3",
               "--per-round", "16", "--coldstart-repeats", "1", "--out", str(tmp_path / "r"), "--baseline", str(p)])
    captured = capsys.readouterr()
    assert rc == 1, captured.err[-3000:]
    assert "onnx-float32: predict_cpu_p50_ratio (threads=1)" in captured.err
    assert "re-measured: 1 confirmed" in captured.err
    gate = json.loads((tmp_path / "r" / "report.json").read_text())["gate"]
    assert gate["passed"] is False and len(gate["failures"]) == 1
    assert "Gate: FAILED" in (tmp_path / "r" / "report.md").read_text()


def test_committed_baseline_covers_the_default_variants():
    from pathlib import Path

    p = Path(__file__).resolve().parents[1] / ".ci" / "baseline-sketch.json"
    base = load_baseline(p)
    assert base["settings"]["reference_variant"] == "tflite-float32"
    assert base["settings"]["mode"] == "quick"
    for name in ("tflite-float32", "onnx-float32"):
        figs = base["figures"][name]
        assert "drop_points" in figs["any"] and "1" in figs
        assert set(figs["1"]) <= set(LATENCY_FIGURES) and "predict_over_invoke_cpu" in figs["1"]


def test_no_data_and_no_run_split_is_a_clear_error(bundle_copy, capsys, tmp_path):
    m = json.loads((bundle_copy / "manifest.json").read_text())
    m["training"]["run_dir"] = str(tmp_path / "gone")
    rewrite_manifest(bundle_copy, m)
    rc = main(["bench", str(bundle_copy), "--quick", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 3  # bad input
    assert "--data was not given" in err and "test_split.npz" in err
    assert not (tmp_path / "r").exists()
