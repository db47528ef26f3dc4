"""Signing bundles with OpenSSF ``model-signing`` (optional: ``pip install 'inkcast[sign]'``).

A signature covers every file of the bundle folder (``model-signing`` hashes the whole tree, the
signature file excepted) and is written to ``BUNDLE/bundle.sig``, a Sigstore bundle (in-toto
statement, DSSE envelope). Key-based signing uses an elliptic-curve key pair in PEM files; the
library also signs with Sigstore or certificates, which need a network or a PKI this tool does
not assume. Nothing in ``inkcast.runtime`` imports this module unless a signature is required.
"""

from __future__ import annotations

from pathlib import Path

from inkcast.runtime.errors import BackendUnavailableError, BadInputError, BundleError

SIGNATURE = "bundle.sig"


class SignatureError(BundleError):
    """A bundle's signature is missing, malformed, or does not match its files or the key."""


def _library():
    try:
        import model_signing
    except ImportError as e:
        raise BackendUnavailableError("signing needs the model-signing library: pip install 'inkcast[sign]' "
                           f"({e})") from None
    return model_signing


def _key_file(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such {what} file")
    return p


def sign_bundle(bundle: str | Path, private_key: str | Path, password: str | None = None) -> Path:
    """Sign every file of ``bundle`` with an EC private key (PEM); returns the signature's path.

    The bundle's own integrity is checked first, so a damaged bundle is never signed."""
    from inkcast.runtime.bundle import load_bundle

    ms = _library()
    root = Path(bundle)
    load_bundle(root).verify_all()
    key = _key_file(private_key, "private key")
    sig = root / SIGNATURE
    tmp = root.parent / f".{root.name}.{SIGNATURE}.tmp"
    try:
        ms.signing.Config().use_elliptic_key_signer(private_key=key, password=password).set_hashing_config(
            ms.hashing.Config().set_ignored_paths(paths=[SIGNATURE])).sign(root, tmp)
    except (ValueError, TypeError) as e:
        tmp.unlink(missing_ok=True)
        raise BadInputError(f"{key}: cannot sign with this key ({e})") from None
    tmp.replace(sig)  # atomic: a crash leaves the old signature or the new one
    return sig


def verify_bundle(bundle: str | Path, public_key: str | Path) -> None:
    """Check ``BUNDLE/bundle.sig`` against the bundle's files and an EC public key (PEM).

    Raises :class:`SignatureError` naming the problem: no signature, a file added, removed or
    changed since signing, or a signature made with another key."""
    ms = _library()
    root = Path(bundle)
    sig = root / SIGNATURE
    if not sig.is_file():
        raise SignatureError(f"{sig}: the bundle is not signed (no {SIGNATURE})")
    key = _key_file(public_key, "public key")
    try:
        ms.verifying.Config().use_elliptic_key_verifier(public_key=key).set_hashing_config(
            ms.hashing.Config().set_ignored_paths(paths=[SIGNATURE])).verify(root, sig)
    except Exception as e:  # model-signing raises ValueError and its own types; report, never trace
        raise SignatureError(f"{sig}: the signature does not verify with {key} ({type(e).__name__}: {e})") from None
