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


def to_tflite_float32(model: "keras.Model", input_shape: Sequence[int | None], input_name: str) -> bytes:
    return tflite_converter(model, input_shape, input_name).convert()


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
