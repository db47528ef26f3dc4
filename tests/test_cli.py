"""The `inkcast` command as a user runs it."""

import json
import subprocess
import sys

import pytest

from inkcast.main import main


def run(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "inkcast", *args], capture_output=True, text=True, timeout=timeout)


def test_predict_prints_top3_per_line(sketch_bundle, quickdraw_dir, capsys):
    assert main(["predict", str(sketch_bundle), str(quickdraw_dir / "star.ndjson"), "--max-drawings", "4",
                 "--backend", "onnx"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("line ") and "(true: star)" in line for line in lines)
    from inkcast.runtime import SketchRecognizer

    rec = SketchRecognizer(sketch_bundle, backend="onnx")
    for line in lines:  # "line N: ANSWER  [label p  label p  label p] (true: star)"
        answer, top = line.split(": ", 1)[1].split("  [", 1)
        assert len(top.split("]")[0].split("  ")) == 3
        assert answer in rec.labels or answer == "unknown"


def test_evaluate_json_every_variant_and_per_backend(sketch_bundle, quickdraw_dir, capsys):
    assert main(["evaluate", str(sketch_bundle), str(quickdraw_dir), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    m = json.loads((sketch_bundle / "manifest.json").read_text())
    assert set(res) == set(m["variants"])  # --backend all (the default): every variant
    for name, r in res.items():
        assert r["backend"] == m["variants"][name]["backend"] and r["items"] > 1900
        assert r["top1"] > 0.6 and r["top3"] >= r["top1"]
    assert abs(res["tflite-float32"]["top1"] - res["onnx-float32"]["top1"]) < 0.002
    assert main(["evaluate", str(sketch_bundle), str(quickdraw_dir), "--backend", "onnx", "--json"]) == 0
    assert list(json.loads(capsys.readouterr().out)) == ["onnx-float32"]


def test_predict_reports_the_bad_line(sketch_bundle, tmp_path, capsys):
    f = tmp_path / "in.ndjson"
    f.write_text('{"drawing": [[[1, 50, 90], [3, 40, 80]]]}\n{"drawing": [[[1, 2], [3]]]}\n')
    assert main(["predict", str(sketch_bundle), str(f)]) == 3
    err = capsys.readouterr().err
    assert "in.ndjson:2: stroke 0: x has 2 values but y has 1" in err


def test_missing_bundle_is_a_clean_error(tmp_path):
    r = run("predict", str(tmp_path / "nope"), str(tmp_path / "x.ndjson"))
    assert r.returncode == 4 and "not a bundle folder" in r.stderr and "Traceback" not in r.stderr


def test_demo_with_no_data_trains_on_the_real_sample_and_says_what_to_do_next(tmp_path):
    """Its own small training (2 passes over 60 drawings a category): the demo is the one command
    that trains on the packaged sample, and no fixture does."""
    from inkcast.commands.demo import sample_folder

    sample = sample_folder()
    files = sorted(sample.rglob("*.ndjson"))
    assert len(files) == 26 and sum(f.stat().st_size for f in files) < 1_000_000
    assert "CC BY 4.0" in (sample / "README.md").read_text()
    r = run("demo", "--out", str(tmp_path / "demo"), "--max-per-category", "60", "--epochs", "2",
            "--variants", "tflite-float32,onnx-float32")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "training on the real sample in the package" in r.stdout and "CC BY 4.0" in r.stdout
    assert (tmp_path / "demo" / "bundle" / "manifest.json").is_file()
    assert r.stdout.count(" -> ") == 7  # five known categories, two held-out unknown ones
    assert "held-out top-1" in r.stdout and f"inkcast serve {tmp_path / 'demo' / 'bundle'}" in r.stdout


def test_the_demo_trains_half_the_step_floor_of_train():
    """The tour's floor is its own (minutes on a 2-core machine), half of `inkcast train`'s."""
    from inkcast.commands.demo import DEMO_MIN_STEPS
    from inkcast.main import build_parser
    from inkcast.training.sketch_options import SketchTrainOptions

    assert build_parser().parse_args(["demo"]).min_steps == DEMO_MIN_STEPS == SketchTrainOptions().min_steps // 2
    assert build_parser().parse_args(["demo", "--min-steps", "12000"]).min_steps == 12000


def test_train_refuses_a_negative_resample_spacing(quickdraw_dir, tmp_path, capsys):
    assert main(["train", "sketch", str(quickdraw_dir), "--out", str(tmp_path / "r"),
                 "--resample-spacing", "-1"]) == 2
    assert "--resample-spacing must be 0 (off) or positive, got -1" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_each_kind_of_refusal_has_its_own_exit_status():
    """One rule for errors (runtime/errors.py) and one documented status each (docs/CLI.md)."""
    from inkcast.export.errors import ExportValidationError
    from inkcast.main import exit_code
    from inkcast.runtime.errors import (BackendUnavailableError, BadInputError, BundleError, InkcastError,
                                        OptionsError)
    from inkcast.signing import SignatureError
    from inkcast.tasks.base import EvalDataError

    cases = {OptionsError("x"): 2, BadInputError("x"): 3, FileNotFoundError("x"): 3, EvalDataError("x"): 3,
             BundleError("x"): 4, SignatureError("x"): 4, ExportValidationError("x"): 5,
             BackendUnavailableError("x"): 6, InkcastError("x"): 1, ValueError("x"): 1}
    assert {type(e).__name__: exit_code(e) for e in cases} == {type(e).__name__: c for e, c in cases.items()}
    for e in cases:  # every error inkcast raises on purpose is an InkcastError (or the builtin it refines)
        assert isinstance(e, (InkcastError, FileNotFoundError, ValueError))


def test_old_flags_and_keywords_still_work_with_a_deprecation_warning(sketch_bundle, quickdraw_dir, capsys):
    """One vocabulary (cli/commands/vocabulary.py): the old names keep working for one release."""
    from inkcast.commands.vocabulary import RENAMED
    from inkcast.runtime import SketchRecognizer

    star = str(quickdraw_dir / "star.ndjson")
    assert main(["predict", str(sketch_bundle), star, "--max-drawings", "2", "--variant", "onnx-float32"]) == 0
    new = capsys.readouterr()
    assert main(["predict", str(sketch_bundle), star, "--limit", "2", "--format", "onnx-float32"]) == 0
    old = capsys.readouterr()
    assert old.out == new.out and len(new.out.splitlines()) == 2 and "deprecated" not in new.err
    assert "--limit is deprecated: use --max-drawings" in old.err and "--format is deprecated: use --variant" in old.err
    assert main(["evaluate", str(sketch_bundle), "--data", str(quickdraw_dir), "--variant", "onnx-float32", "--json"]) == 0
    assert "--data is deprecated: use DATA (positional)" in capsys.readouterr().err
    assert main(["evaluate", str(sketch_bundle), str(quickdraw_dir), "--data", str(quickdraw_dir)]) == 2
    assert "give the input once" in capsys.readouterr().err
    with pytest.warns(DeprecationWarning, match="format= is deprecated: use variant="):
        rec = SketchRecognizer(sketch_bundle, format="onnx-float32")
    assert rec.variant == "onnx-float32"
    with pytest.warns(DeprecationWarning, match="format is deprecated: use variant"):
        assert rec.format == "onnx-float32"
    assert {"--format", "--formats", "--public-key", "--data", "--limit"} <= set(RENAMED)
