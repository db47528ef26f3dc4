"""``inkcast predict BUNDLE FILE.ndjson``: each drawing's answer (a label, or "unknown") and its top-k."""

from __future__ import annotations

import argparse

from .vocabulary import add_signed_by, add_variant, renamed

RAW = {"auto": None, "yes": True, "no": False}


def register(sub) -> None:
    pr = sub.add_parser("predict", help="the answer (a label or 'unknown') and top-3 for each drawing of an ndjson file")
    pr.add_argument("bundle")
    pr.add_argument("file")
    add_variant(pr)
    add_signed_by(pr)
    pr.add_argument("--top-k", type=int, default=3)
    pr.add_argument("--max-drawings", type=int, help="stop after N drawings of the file")
    renamed(pr, "--limit", "--max-drawings", "max_drawings", type=int)
    pr.add_argument("--raw", choices=list(RAW), default="auto",
                    help="raw touch strokes (screen pixels) are simplified as Google did first; "
                         "auto detects them (default)")
    pr.set_defaults(func=predict_command)


def predict_command(a: argparse.Namespace) -> int:
    from inkcast.data.ndjson import iter_drawings
    from inkcast.runtime import SketchRecognizer
    from inkcast.runtime.errors import BadInputError

    rec = SketchRecognizer(a.bundle, backend=a.backend, variant=a.variant, signed_by=a.signed_by)
    n = 0
    for lineno, meta, drawing in iter_drawings(a.file):
        if a.max_drawings and n >= a.max_drawings:
            break
        try:
            r = rec.recognize(drawing, top_k=a.top_k, raw=RAW[a.raw])
        except BadInputError as e:
            raise BadInputError(f"{a.file}:{lineno}: {e}") from None
        shown = "  ".join(f"{label} {p:.3f}" for label, p in r.top_k)
        word = f" (true: {meta['word']})" if "word" in meta else ""
        print(f"line {lineno}: {r.label if r.known else 'unknown'}  [{shown}]{word}")
        n += 1
    return 0
