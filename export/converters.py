"""Keras model -> TFLite / ONNX bytes, with the real converters (TFLite converter, tf2onnx).

TFLite graphs are traced with batch 1 and the given time axis (None = free): with a fixed batch
the tf-keras LSTM fuses into UNIDIRECTIONAL_SEQUENCE_LSTM even with a free time axis, while a
free batch axis fails to lower the LSTM's tensor lists. ONNX graphs keep batch and time free.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np

from inkcast.training.tf_env import keras, tf

Representative = Callable[[], Iterable[list[np.ndarray]]]


def tflite_converter(model: "keras.Model", input_shape: Sequence[int | None], input_name: str):
    """A TFLite converter for ``model`` traced at ``input_shape`` (batch first, must be 1)."""
    spec = tf.TensorSpec(list(input_shape), tf.float32, name=input_name)
    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    return tf.lite.TFLiteConverter.from_concrete_functions([fn], model)


def without_lstm_cell_clip(data: bytes) -> bytes:
    """The same TFLite model with every fused LSTM's ``cell_clip`` set to 0 (no clipping).

    The converter fuses a tf-keras LSTM into UNIDIRECTIONAL_SEQUENCE_LSTM with ``cell_clip=10``,
    a clip Keras never applies: once a cell state passes 10 (long drawings do), the file's answer
    drifts from the model's. Found by the fuzz suite: on drawings of 128 rows tflite-float32 was
    up to 0.075 in probability from Keras while onnx-float32 stayed within 1e-6 (real test
    drawings: up to 0.032). Only for variants with a float cell state (float32, float16,
    dynamic-range int8); full-integer LSTMs need a bounded cell state for its int16 scale.
    Rewritten with TensorFlow's own generated TFLite schema (object API), not by hand.
    """
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(data, 0))
    lstm = schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    changed = 0
    for graph in model.subgraphs:
        for op in graph.operators:
            if codes[op.opcodeIndex] == lstm and op.builtinOptions.cellClip != 0.0:
                op.builtinOptions.cellClip = 0.0
                changed += 1
    if not changed:
        return data
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def to_tflite_float32(model: "keras.Model", input_shape: Sequence[int | None], input_name: str) -> bytes:
    return without_lstm_cell_clip(tflite_converter(model, input_shape, input_name).convert())


def to_onnx(model: "keras.Model", input_shape: Sequence[int | None], input_name: str,
            output_name: str, opset: int = 17, metadata: dict[str, str] | None = None) -> bytes:
    """Convert with tf2onnx; optional ``metadata`` goes into the model's ``metadata_props``."""
    import tf2onnx  # imported here: it is slow to import and only export needs it

    spec = (tf.TensorSpec(list(input_shape), tf.float32, name=input_name),)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset)
    # tf2onnx names the output after the Keras layer; give it the bundle's stable name.
    old = proto.graph.output[0].name
    if old != output_name:
        for node in proto.graph.node:
            node.output[:] = [output_name if o == old else o for o in node.output]
        proto.graph.output[0].name = output_name
    for k, v in (metadata or {}).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    return proto.SerializeToString()
