"""TFLite model metadata for the ``.tflite`` variants: name, description, tensor descriptions and,
for a classifier, the labels inside the model file, in the standard schema that Android Studio's
ML model binding and the LiteRT support libraries read.

The writer is MediaPipe's metadata library (the one Model Maker uses; ``tflite-support`` is no
longer released). Its last release whose wheel ships the writer's native parts, 0.10.21, needs
protobuf < 5 and NumPy < 2; TensorFlow 2.21 needs protobuf >= 5. So it lives in an environment
of its own, made once by ``inkcast setup metadata-writer``, and export runs it as a subprocess
(``tflite_metadata_tool.py``) on the converted bytes, before validation, so every check runs on
the file that ships. The runtime never needs it: LiteRT ignores the metadata when it runs a model.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from inkcast.runtime.errors import InkcastError

WRITER_REQUIREMENTS = ("mediapipe==0.10.21",)  # with the dependencies it declares (numpy < 2, protobuf < 5)
WRITER_NAME = "MediaPipe metadata writer 0.10.21"
ENV_VAR = "INKCAST_METADATA_WRITER"  # a Python that has mediapipe 0.10.21, or the folder of such a venv
LABELS_FILE = "labels.txt"
TOOL = Path(__file__).with_name("tflite_metadata_tool.py")


class MetadataWriterError(InkcastError):
    """The metadata writer is not installed, or it failed; the message says which and what to do."""


@dataclass
class TfliteMetadata:
    """What a task writes into its ``.tflite`` files (the spec's ``tflite_metadata``)."""

    name: str
    description: str
    version: str
    author: str
    license: str
    input_name: str
    input_description: str
    output_name: str
    output_description: str
    labels: list[str] | None = None  # a classifier's labels in output order: an associated file


def default_writer_dir() -> Path:
    """Where ``inkcast setup metadata-writer`` puts the writer: beside inkcast's own environment
    (``$INKCAST_METADATA_WRITER`` overrides it)."""
    return Path(os.environ.get(ENV_VAR) or Path(sys.prefix) / "inkcast-metadata-writer")


def _python_in(place: Path) -> Path:
    if place.is_file():
        return place
    return place / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def writer_python() -> Path:
    """The writer environment's Python; MetadataWriterError with what to do when there is none."""
    place = default_writer_dir()
    python = _python_in(place)
    if not python.is_file():
        raise MetadataWriterError(
            f"the .tflite variants carry TFLite metadata (their labels inside the file), written by {WRITER_NAME}, "
            f"which runs in an environment of its own and is not at {place}: run `inkcast setup metadata-writer` "
            f"once (about a minute and 1 GB), point ${ENV_VAR} at a Python that has {WRITER_REQUIREMENTS[0]}, "
            "or export without it (--no-tflite-metadata)")
    return python


def install_writer(target: str | Path | None = None, log: Callable[[str], None] = print) -> Path:
    """Make the writer's environment at ``target`` (default: ``default_writer_dir()``): a venv,
    built beside it and renamed into place once it imports, so a failed install leaves nothing."""
    target = Path(target) if target else default_writer_dir()
    if target.is_file():
        raise MetadataWriterError(f"{target} is a Python, not a folder to install into: install "
                                  f"{WRITER_REQUIREMENTS[0]} into it with its own pip")
    if _works(_python_in(target)):
        log(f"{WRITER_NAME} is already installed at {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        log(f"making {target} with {' '.join(WRITER_REQUIREMENTS)} ...")
        _run([sys.executable, "-m", "venv", str(tmp)], "could not make a venv for the writer")
        _run([str(_python_in(tmp)), "-m", "pip", "install", "--disable-pip-version-check", "-q",
              *WRITER_REQUIREMENTS], "pip could not install the writer")
        if not _works(_python_in(tmp)):
            raise MetadataWriterError(f"{WRITER_NAME} was installed into {tmp} but does not import")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(f"{WRITER_NAME} installed at {target}")
    return target


def _works(python: Path) -> bool:
    if not python.is_file():
        return False
    probe = "from mediapipe.tasks.python.metadata.metadata_writers import metadata_info"
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


def _run(cmd: list[str], what: str) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        tail = " ".join((p.stderr or p.stdout).strip().splitlines()[-3:])[-600:]
        raise MetadataWriterError(f"{what}: {tail}")
    return p.stdout


def add_metadata(model: bytes, md: TfliteMetadata, python: Path | None = None) -> tuple[bytes, dict[str, Any]]:
    """The model's bytes with ``md`` written in (the same inputs give the same bytes), and the
    manifest's record of it, once the metadata read back from those bytes matched ``md``."""
    python = python or writer_python()
    general = {"name": md.name, "description": md.description, "version": md.version,
               "author": md.author, "licenses": md.license}
    output: dict[str, Any] = {"name": md.output_name, "description": md.output_description}
    if md.labels is not None:
        output.update(labels=list(md.labels), labels_file=LABELS_FILE)
    with tempfile.TemporaryDirectory(prefix="inkcast-metadata-") as tmp:
        src, dst, spec = Path(tmp, "in.tflite"), Path(tmp, "out.tflite"), Path(tmp, "spec.json")
        src.write_bytes(model)
        spec.write_text(json.dumps({"model_in": str(src), "model_out": str(dst), "general": general,
                                    "input": {"name": md.input_name, "description": md.input_description},
                                    "output": output}), encoding="utf-8")
        shown = _run([str(python), str(TOOL), "write", str(spec)], f"{WRITER_NAME} could not write the metadata")
        return dst.read_bytes(), _check(json.loads(shown), md)


def read_metadata(path: str | Path, python: Path | None = None) -> dict[str, Any]:
    """A ``.tflite`` file's metadata as MediaPipe's ``MetadataDisplayer`` reads it:
    ``{"metadata": <the schema as JSON>, "files": {name: text}}``."""
    python = python or writer_python()
    out = _run([str(python), str(TOOL), "read", str(path)], f"{path}: the metadata could not be read")
    return json.loads(out)


def _check(shown: dict[str, Any], md: TfliteMetadata) -> dict[str, Any]:
    meta = shown["metadata"]
    problems = []
    if meta.get("name") != md.name:
        problems.append(f"name {meta.get('name')!r}")
    if md.labels is not None:
        text = shown["files"].get(LABELS_FILE)
        if text is None or text.split("\n") != list(md.labels):
            problems.append(f"labels ({LABELS_FILE} {'missing' if text is None else 'differs'})")
    if problems:
        raise MetadataWriterError("the metadata read back differs from what was written: " + ", ".join(problems))
    return {"writer": WRITER_NAME, "name": md.name, "min_parser_version": meta.get("min_parser_version"),
            **({"labels_file": LABELS_FILE} if md.labels is not None else {})}
