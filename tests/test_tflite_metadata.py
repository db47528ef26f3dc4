"""Labels inside the model file: every ``.tflite`` variant carries TFLite model metadata written by
MediaPipe's metadata writer and read back here by MediaPipe's reader (``MetadataDisplayer``), the
reader Android Studio's ML model binding and the LiteRT support libraries share the schema of.

The writer runs in its own environment (``inkcast setup metadata-writer``, which ``.ci/run`` and
the README's set-up command run); the runtime never needs it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inkcast.export.tflite_metadata import (ENV_VAR, LABELS_FILE, MetadataWriterError, TfliteMetadata, add_metadata,
                                            install_writer, read_metadata)
from inkcast.runtime.backends import open_model
from inkcast.tasks import spec_for

pytestmark = pytest.mark.slow


def _tflite_variants(bundle: Path) -> dict[str, dict]:
    manifest = json.loads((bundle / "manifest.json").read_text())
    return {k: v for k, v in manifest["variants"].items() if v["backend"] == "tflite"}


def test_every_tflite_variant_reads_back_the_manifests_labels(sketch_bundle):
    manifest = json.loads((sketch_bundle / "manifest.json").read_text())
    variants = _tflite_variants(sketch_bundle)
    assert len(variants) >= 4, variants.keys()  # float32, float16, dynamic int8, int8 (and QAT here)
    for name, v in variants.items():
        got = read_metadata(sketch_bundle / v["file"])
        meta = got["metadata"]
        assert got["files"][LABELS_FILE].split("\n") == manifest["labels"], name
        assert meta["name"] == "inkcast sketch recognizer"
        assert meta["version"] == manifest["inkcast_version"]
        assert "Quick, Draw!" in meta["description"] and "CONTRACT.md" in meta["description"]
        assert json.dumps(manifest["preprocessing"], sort_keys=True) in meta["description"]
        (inp,), (out,) = (meta["subgraph_metadata"][0][k] for k in ("input_tensor_metadata", "output_tensor_metadata"))
        assert (inp["name"], inp["description"]) == (manifest["input"]["name"], manifest["input"]["description"])
        assert (out["name"], out["description"]) == (manifest["output"]["name"], manifest["output"]["description"])
        assert out["associated_files"] == [{"name": LABELS_FILE, "type": "TENSOR_AXIS_LABELS",
                                            "description": out["associated_files"][0]["description"]}]
        assert v["tflite_metadata"]["labels_file"] == LABELS_FILE


def test_forecast_tflite_files_carry_descriptions_without_labels(forecast_bundle):
    manifest = json.loads((forecast_bundle / "manifest.json").read_text())
    variants = _tflite_variants(forecast_bundle)
    assert variants
    for v in variants.values():
        got = read_metadata(forecast_bundle / v["file"])
        assert got["files"] == {}
        meta = got["metadata"]
        assert meta["name"] == "inkcast 7-day forecaster"
        out = meta["subgraph_metadata"][0]["output_tensor_metadata"][0]
        assert out["description"] == manifest["output"]["description"]
        assert "labels_file" not in v["tflite_metadata"]


@pytest.fixture(scope="module")
def bare_model(sketch_run, tmp_path_factory) -> Path:
    """The float32 TFLite file exported without metadata."""
    from inkcast.export.pipeline import ExportOptions, export_run

    out = tmp_path_factory.mktemp("bare") / "bundle"
    export_run(sketch_run, out, ExportOptions(variants=("tflite-float32",), tflite_metadata=False), log=lambda m: None)
    return out / "model.tflite"


def test_metadata_changes_no_answer_and_the_bytes_are_reproducible(bare_model, sketch_bundle):
    with pytest.raises(MetadataWriterError, match="model.tflite"):
        read_metadata(bare_model)  # an export told to leave it out has none
    tflite = _tflite_variants(sketch_bundle)["tflite-float32"]
    with_md = (sketch_bundle / tflite["file"]).read_bytes()
    # the bundle's metadata as read back, written again onto the bare file
    md_of_bundle = read_metadata(sketch_bundle / tflite["file"])["metadata"]
    labels = json.loads((sketch_bundle / "manifest.json").read_text())["labels"]
    sub = md_of_bundle["subgraph_metadata"][0]
    md = TfliteMetadata(name=md_of_bundle["name"], description=md_of_bundle["description"],
                        version=md_of_bundle["version"], author=md_of_bundle["author"],
                        license=md_of_bundle["license"],
                        input_name=sub["input_tensor_metadata"][0]["name"],
                        input_description=sub["input_tensor_metadata"][0]["description"],
                        output_name=sub["output_tensor_metadata"][0]["name"],
                        output_description=sub["output_tensor_metadata"][0]["description"], labels=labels)
    assert spec_for("sketch").model_title == md.name
    bare = bare_model.read_bytes()
    once, record = add_metadata(bare, md)
    twice, _ = add_metadata(bare, md)
    assert once == twice == with_md  # the same bare model and metadata: the bundle's file, byte for byte
    assert record["labels_file"] == LABELS_FILE

    path_md = bare_model.parent / "with_metadata.tflite"
    path_md.write_bytes(once)
    a, b = open_model(bare_model, "tflite"), open_model(path_md, "tflite")
    rng = np.random.default_rng(0)
    for length in (5, 40, 100):
        x = rng.normal(size=(1, length, 3)).astype(np.float32)
        x[..., 2] = (rng.random((1, length)) < 0.2).astype(np.float32)
        assert np.array_equal(a.run(x), b.run(x))


def test_a_missing_writer_is_named_before_any_work(sketch_run, tmp_path, monkeypatch):
    from inkcast.export.pipeline import ExportOptions, export_run

    monkeypatch.setenv(ENV_VAR, str(tmp_path / "no-writer-here"))
    with pytest.raises(MetadataWriterError) as e:
        export_run(sketch_run, tmp_path / "bundle", ExportOptions(variants=("tflite-float32",)), log=lambda m: None)
    msg = str(e.value)
    assert "inkcast setup metadata-writer" in msg and "--no-tflite-metadata" in msg and "no-writer-here" in msg
    assert not (tmp_path / "bundle").exists()
    # ONNX alone needs no writer
    export_run(sketch_run, tmp_path / "onnx", ExportOptions(variants=("onnx-float32",)), log=lambda m: None)
    assert (tmp_path / "onnx" / "model.onnx").is_file()


def test_the_installer_refuses_a_python_as_its_folder(tmp_path):
    python = tmp_path / "python"
    python.write_text("")
    with pytest.raises(MetadataWriterError, match="is a Python, not a folder"):
        install_writer(python, log=lambda m: None)
