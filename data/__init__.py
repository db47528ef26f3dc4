"""Reading data files: Quick, Draw! ndjson, ragged model rows, daily CSV series.

NumPy and the standard library only, so the runtime-only install (no TensorFlow) reads the same
files the same way as training does. Every reader names the file and line of a malformed record.
"""
