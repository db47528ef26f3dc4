"""``inkcast data download`` and ``inkcast data prepare``: reach the real dataset."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    d = sub.add_parser("data", help="download Quick, Draw! files; prepare a TFDS strokes dataset").add_subparsers(
        dest="data_command", required=True)
    dl = d.add_parser("download", help="fetch category files from Google's public bucket (or a mirror)")
    dl.add_argument("--categories", required=True, help='comma-separated names ("cat,The Eiffel Tower") or all')
    dl.add_argument("--format", default="simplified", choices=["simplified", "raw", "binary", "npz"])
    dl.add_argument("--out", required=True, help="folder to write <category>.<suffix> files into")
    dl.add_argument("--base-url", help="a mirror of the bucket's layout (default: Google's bucket)")
    dl.add_argument("--workers", type=int, default=4, help="files downloaded at once (default 4)")
    dl.add_argument("--retries", type=int, default=5, help="further attempts per file on network errors and 5xx")
    dl.set_defaults(func=download_command)
    pr = d.add_parser("prepare", help="build the TFDS dataset quickdraw_strokes from a folder of category files")
    pr.add_argument("source", help="folder of <category>.ndjson|.bin|.npz|.csv files (any mix of formats)")
    pr.add_argument("--out", required=True, help="TFDS data_dir to write (tfds.load(..., data_dir=OUT))")
    pr.add_argument("--format", choices=["simplified", "raw", "binary", "npz", "csv"],
                    help="read only files of this format (default: every file, each format detected)")
    pr.add_argument("--categories", help="comma-separated subset (default: every file)")
    pr.add_argument("--max-per-category", type=int)
    pr.add_argument("--recognized-only", action="store_true")
    pr.add_argument("--split-by", choices=["key_id", "source"], default="key_id",
                    help="key_id: sha256 of key_id, 80/10/10 (default); source: the files' own split (sketch-rnn)")
    pr.add_argument("--shards", type=int, help="files per split (default 16; more for the full dataset)")
    pr.set_defaults(func=prepare_command)


def download_command(a: argparse.Namespace) -> int:
    from inkcast.data.download import BASE_URL, DownloadOptions, download, resolve_categories

    o = DownloadOptions(categories=resolve_categories(a.categories), format=a.format, base_url=a.base_url or BASE_URL,
                        workers=a.workers, retries=a.retries)
    files = download(o, a.out)
    print(f"{len(files)} files in {a.out}")
    return 0


def prepare_command(a: argparse.Namespace) -> int:
    import time

    from inkcast.data.quickdraw import QuickDrawOptions
    from inkcast.datasets.quickdraw_strokes import NAME, SHARDS, PrepareOptions, prepare

    o = PrepareOptions(data=QuickDrawOptions(
        categories=tuple(c.strip() for c in a.categories.split(",")) if a.categories else None,
        max_per_category=a.max_per_category, recognized_only=a.recognized_only, format=a.format,
        split_by=a.split_by), shards=a.shards or SHARDS)
    t0 = time.monotonic()
    builder = prepare(a.source, a.out, o)
    secs = time.monotonic() - t0
    counts = {s: info.num_examples for s, info in builder.info.splits.items()}
    total = sum(counts.values())
    print(f"{NAME}: {total:,} drawings of {builder.info.features['label'].num_classes} categories "
          f"({', '.join(f'{s} {n:,}' for s, n in counts.items())}) in {secs:.1f} s ({total / secs:,.0f} drawings/s); "
          f"tfds.load({NAME!r}, data_dir={a.out!r})")
    return 0
