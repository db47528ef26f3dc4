"""inkcast: small sequence models from training to the edge."""

__version__ = "0.1.0"
