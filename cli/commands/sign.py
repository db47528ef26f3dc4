"""``inkcast sign`` and ``inkcast verify``: a bundle's integrity, and its signature (model-signing)."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    s = sub.add_parser("sign", help="sign a bundle with an EC private key (needs inkcast[sign])")
    s.add_argument("bundle")
    s.add_argument("--key", required=True, help="EC private key, PEM")
    s.add_argument("--password", help="the key's password, if it has one")
    s.set_defaults(func=sign_command)
    v = sub.add_parser("verify", help="check every file of a bundle against its digests, and its signature")
    v.add_argument("bundle")
    v.add_argument("--public-key", help="EC public key (PEM): also require a valid signature (needs inkcast[sign])")
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
    if a.public_key:
        from inkcast.signing import verify_bundle

        verify_bundle(a.bundle, a.public_key)
        print(f"{b.root}: the signature is valid for {a.public_key}")
    return 0
