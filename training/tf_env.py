"""Import TensorFlow with legacy tf-keras (Keras 2) selected: the one place that sets it up.

Keras 3 LSTMs convert to TFLite WHILE loops and break full-integer conversion; tf-keras LSTMs
fuse into UNIDIRECTIONAL_SEQUENCE_LSTM, and tensorflow-model-optimization needs tf-keras too.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

tf.get_logger().setLevel("ERROR")

__all__ = ["tf", "keras"]
