"""TensorFlow Datasets builders: ``quickdraw_strokes``, the Quick, Draw! strokes that TFDS lacks."""
