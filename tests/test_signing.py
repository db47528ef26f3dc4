"""Signing a bundle with OpenSSF model-signing (key based): sign, verify, tamper, refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("model_signing")

from inkcast.main import main  # noqa: E402
from inkcast.runtime import SketchRecognizer  # noqa: E402
from inkcast.signing import SIGNATURE, SignatureError, sign_bundle, verify_bundle  # noqa: E402


def key_pair(folder: Path, name: str) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / f"{name}.pem", folder / f"{name}.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def test_sign_verify_tamper_refuse(bundle_copy, tmp_path, test_drawings, capsys):
    private, public = key_pair(tmp_path, "release")
    _, other = key_pair(tmp_path, "someone-else")
    with pytest.raises(SignatureError, match="the bundle is not signed"):
        SketchRecognizer(bundle_copy, signed_by=public)

    assert main(["sign", str(bundle_copy), "--key", str(private)]) == 0
    assert (bundle_copy / SIGNATURE).is_file()
    verify_bundle(bundle_copy, public)
    assert main(["verify", str(bundle_copy), "--signed-by", str(public)]) == 0
    assert "the signature is valid" in capsys.readouterr().out
    rec = SketchRecognizer(bundle_copy, signed_by=public)
    assert rec.predict(test_drawings[0]["drawing"])[0][0] in rec.labels

    with pytest.raises(SignatureError, match="does not verify"):  # another key
        SketchRecognizer(bundle_copy, signed_by=other)
    # a file changed after signing: refused even where the bundle's own digests were re-made to match
    (bundle_copy / "accuracy.md").write_text("# rewritten\n")
    with pytest.raises(SignatureError, match="does not verify"):
        verify_bundle(bundle_copy, public)
    assert main(["verify", str(bundle_copy), "--signed-by", str(public)]) == 4
    assert "accuracy.md" in capsys.readouterr().err  # the digest check names the file first


def test_an_added_file_breaks_the_signature(bundle_copy, tmp_path):
    private, public = key_pair(tmp_path, "k")
    sign_bundle(bundle_copy, private)
    (bundle_copy / "extra.bin").write_bytes(b"payload")
    with pytest.raises(SignatureError, match="does not verify"):
        SketchRecognizer(bundle_copy, signed_by=public)


def test_a_damaged_bundle_is_not_signed(bundle_copy, tmp_path):
    private, _ = key_pair(tmp_path, "k")
    (bundle_copy / "labels.txt").write_text("nope\n")
    from inkcast.runtime import BundleError

    with pytest.raises(BundleError, match="labels.txt: checksum mismatch"):
        sign_bundle(bundle_copy, private)
    assert not (bundle_copy / SIGNATURE).exists()
