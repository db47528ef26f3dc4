"""``inkcast setup metadata-writer``: make the environment that writes TFLite model metadata."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    st = sub.add_parser("setup", help="install optional tools that live in environments of their own")
    which = st.add_subparsers(dest="tool", required=True)
    mw = which.add_parser("metadata-writer", help="MediaPipe's TFLite metadata writer, which export uses to put "
                          "labels and descriptions into the .tflite files (a venv of its own, about 1 GB)")
    mw.add_argument("--dir", help="where to make it (default: beside inkcast's environment, or "
                    "$INKCAST_METADATA_WRITER)")
    mw.set_defaults(func=metadata_writer_command)


def metadata_writer_command(a: argparse.Namespace) -> int:
    from inkcast.export.tflite_metadata import install_writer

    install_writer(a.dir)
    return 0
