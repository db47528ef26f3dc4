"""inkcast: small sequence models from training to the edge."""

__version__ = "0.2.1"

# The training side's import names. The runtime (inkcast.runtime, inkcast.data) must never import
# any of them: tests, benchmarks and scripts check processes against this one list.
HEAVY_MODULES = ("tensorflow", "tf_keras", "keras", "tf2onnx", "tensorflow_datasets", "tensorflow_model_optimization")
