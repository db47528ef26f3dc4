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


def download_command(a: argparse.Namespace) -> int:
    from inkcast.data.download import BASE_URL, DownloadOptions, download, resolve_categories

    o = DownloadOptions(categories=resolve_categories(a.categories), format=a.format, base_url=a.base_url or BASE_URL,
                        workers=a.workers, retries=a.retries)
    files = download(o, a.out)
    print(f"{len(files)} files in {a.out}")
    return 0
