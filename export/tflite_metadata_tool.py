"""Write or read TFLite model metadata with MediaPipe's metadata library, as a script.

Run by ``inkcast.export.tflite_metadata`` with the Python of the metadata writer's own
environment (``inkcast setup metadata-writer``), never imported by inkcast: MediaPipe 0.10.21,
the last release whose wheel ships the writer's native parts, needs protobuf < 5 and NumPy < 2,
which cannot share an environment with TensorFlow 2.21. It imports nothing from inkcast.

    python tflite_metadata_tool.py write SPEC.json   # SPEC: model_in, model_out, general, input, output
    python tflite_metadata_tool.py read MODEL.tflite  # prints {"metadata": ..., "files": {name: text}}

``write`` also prints what MediaPipe's ``MetadataDisplayer`` reads back from the file it wrote.

The metadata is the standard TFLite schema that Android Studio's ML model binding and the LiteRT
support libraries read: general info, one input and one output tensor description, and for a
classifier the labels as a ``TENSOR_AXIS_LABELS`` associated file (MediaPipe's
``ClassificationTensorMd``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time as _time
import zipfile

import flatbuffers
from mediapipe.tasks.metadata import metadata_schema_py_generated as metadata_fb
from mediapipe.tasks.python.metadata import metadata
from mediapipe.tasks.python.metadata.metadata_writers import metadata_info, writer_utils

# A reproducible file: the associated files are zipped into the model, and zipfile stamps each
# entry with the current time. Stamp them with a fixed one (SOURCE_DATE_EPOCH's convention,
# default 1980-01-01, the zip format's first day) so the same export gives the same bytes.
_EPOCH = float(os.environ.get("SOURCE_DATE_EPOCH", 315532800))



class _FixedClock:
    """What zipfile calls of the time module: ``time()`` and ``localtime()``."""

    @staticmethod
    def time() -> float:
        return _EPOCH

    localtime = staticmethod(_time.gmtime)


zipfile.time = _FixedClock  # zipfile's own reference to the time module, only in this process


def write(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    with open(spec["model_in"], "rb") as f:
        model = bytearray(f.read())
    general = metadata_info.GeneralMd(**spec["general"]).create_metadata()
    inp = metadata_info.TensorMd(**spec["input"]).create_metadata()
    out_spec = dict(spec["output"])
    files = []
    with tempfile.TemporaryDirectory() as tmp:
        labels = out_spec.pop("labels", None)
        if labels is not None:
            path = os.path.join(tmp, out_spec.pop("labels_file", "labels.txt"))
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write("\n".join(labels))
            files.append(path)
            out_type = writer_utils.get_output_tensor_types(model)[0]
            out = metadata_info.ClassificationTensorMd(
                label_files=[metadata_info.LabelFileMd(path)], tensor_type=out_type, **out_spec).create_metadata()
        else:
            out = metadata_info.TensorMd(**out_spec).create_metadata()
        general.subgraphMetadata = [metadata_fb.SubGraphMetadataT()]
        general.subgraphMetadata[0].inputTensorMetadata = [inp]
        general.subgraphMetadata[0].outputTensorMetadata = [out]
        builder = flatbuffers.Builder(0)
        builder.Finish(general.Pack(builder), metadata.MetadataPopulator.METADATA_FILE_IDENTIFIER)
        populator = metadata.MetadataPopulator.with_model_buffer(model)
        populator.load_metadata_buffer(builder.Output())
        if files:
            populator.load_associated_files(files)
        populator.populate()
        result = populator.get_model_buffer()
    with open(spec["model_out"], "wb") as f:
        f.write(result)
    _show(metadata.MetadataDisplayer.with_model_buffer(result))  # what a reader sees, for the caller to check


def _show(displayer) -> None:
    files = {name: displayer.get_associated_file_buffer(name).decode("utf-8")
             for name in displayer.get_packed_associated_file_list()}
    json.dump({"metadata": json.loads(displayer.get_metadata_json()), "files": files}, sys.stdout)


def read(model_path: str) -> None:
    _show(metadata.MetadataDisplayer.with_model_file(model_path))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "read"):
        sys.exit("usage: tflite_metadata_tool.py write SPEC.json | read MODEL.tflite")
    (write if sys.argv[1] == "write" else read)(sys.argv[2])
