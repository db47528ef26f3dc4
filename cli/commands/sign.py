"""``inkcast sign`` and ``inkcast verify``: a bundle's integrity, and its signature (model-signing)."""

from __future__ import annotations

import argparse

from .vocabulary import add_signed_by, renamed


def register(sub) -> None:
    s = sub.add_parser("sign", help="sign a bundle with an EC private key (needs inkcast[sign])")
    s.add_argument("bundle")
    s.add_argument("--key", required=True, help="EC private key, PEM")
    s.add_argument("--password", help="the key's password, if it has one")
    s.set_defaults(func=sign_command)
    v = sub.add_parser("verify", help="check every file of a bundle against its digests, and its signature")
    v.add_argument("bundle")
    add_signed_by(v)
    renamed(v, "--public-key", "--signed-by", "signed_by")
    v.set_defaults(func=verify_command)


def sign_command(a: argparse.Namespace) -> int:
    from inkcast.signing import sign_bundle

    print(f"signed: {sign_bundle(a.bundle, a.key, a.password)}")
    return 0


def verify_command(a: argparse.Namespace) -> int:
    from inkcast.runtime.bundle import load_bundle

    b = load_bundle(a.bundle)
    names = b.verify_all()
    print(f"{b.root}: {len(names)} files match their digests"
          + ("" if b.manifest_sealed else " (made before manifest.sha256: the manifest itself is not protected)"))
    if a.signed_by:
        from inkcast.signing import verify_bundle

        verify_bundle(a.bundle, a.signed_by)
        print(f"{b.root}: the signature is valid for {a.signed_by}")
    return 0
