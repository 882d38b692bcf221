"""Ed25519 keys as PEM files: PKCS#8 private keys and SubjectPublicKeyInfo public keys (what
`openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` write), through the `cryptography` library."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from imagevet.errors import ImagevetError


class KeyFileError(ImagevetError):
    """A key file that is missing, unreadable, or not an Ed25519 key of the expected kind."""


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:
        raise ImagevetError("attestations need cryptography: pip install 'imagevet[attest]'") from exc
    return serialization, ed25519


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {str(path)!r}: {exc.strerror}") from exc


def key_id(public_key: Any) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, hex: the keyid recorded in envelopes."""
    serialization, _ = _crypto()
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def load_private(path: Path) -> Any:
    serialization, ed25519 = _crypto()
    data = _read(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not an unencrypted PEM private key (PKCS#8)") from exc
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def load_public(path: Path) -> Any:
    serialization, ed25519 = _crypto()
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        hint = " (this is a private key: give the .pub file)" if b"PRIVATE KEY" in data else ""
        raise KeyFileError(f"{path}: not a PEM public key (SubjectPublicKeyInfo){hint}") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return key


def generate(private_path: Path, public_path: Path) -> str:
    """Write a new key pair (private 0600); never overwrites. Returns the key id."""
    serialization, ed25519 = _crypto()
    for path in (private_path, public_path):
        if path.exists():
            raise KeyFileError(f"{path} exists; not overwriting a key")
    key = ed25519.Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private_pem)
        public_path.write_bytes(public_pem)
    except OSError as exc:
        raise KeyFileError(f"cannot write the key pair: {exc.strerror} ({exc.filename})") from exc
    return key_id(key.public_key())
