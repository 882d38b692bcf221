"""Attestations: keys interoperate with openssl, the DSSE signature is what openssl itself verifies over
PAE, every altered byte fails verification (exit 1), missing or wrong keys are clear errors (exit 2)."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from imagevet.attest.dsse import pae, parse_envelope
from imagevet.attest.keys import load_public
from imagevet.attest.statement import verify
from tests.conftest import AS_OF_DATE
from tests.support.cli import run_imagevet

IMAGE_ID = "ami-0a1b2c3d4e5f60001"


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def signed(debian_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """An attestation of the debootstrap root signed with an openssl-made key: (envelope, key, pub)."""
    folder = tmp_path_factory.mktemp("attest")
    key, pub, envelope = folder / "key.pem", folder / "key.pub", folder / "attestation.json"
    openssl("genpkey", "-algorithm", "ed25519", "-out", str(key))
    openssl("pkey", "-in", str(key), "-pubout", "-out", str(pub))
    made = run_imagevet(
        "attest", str(debian_root), "--image-id", IMAGE_ID, "--key", str(key), "-o", str(envelope),
        "--as-of", AS_OF_DATE,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return envelope, key, pub


def test_statement_binds_image_audit_and_sbom(signed: tuple[Path, Path, Path], debian_root: Path) -> None:
    envelope, _, pub = signed
    proc = run_imagevet("attest", "verify", str(envelope), "--key", str(pub), "--image-id", IMAGE_ID)
    assert proc.returncode == 0 and proc.stdout.startswith("verified"), proc.stdout + proc.stderr
    statement = json.loads(parse_envelope(envelope.read_text()).payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert (
        statement["subject"][0]["name"] == IMAGE_ID and len(statement["subject"][0]["digest"]["sha256"]) == 64
    )
    predicate = statement["predicate"]
    assert predicate["audit"]["document"]["schema"] == "imagevet/audit/v1"
    assert predicate["sbom"]["document"]["spdxVersion"] == "SPDX-2.3"
    assert any(p["name"] == "openssh-server" for p in predicate["sbom"]["document"]["packages"])


def test_openssl_verifies_the_signature_over_pae(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    envelope, _, pub = signed
    document = json.loads(envelope.read_text())
    (tmp_path / "pae.bin").write_bytes(pae(document["payloadType"], base64.b64decode(document["payload"])))
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(document["signatures"][0]["sig"]))
    command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin"]
    files = ["-in", str(tmp_path / "pae.bin"), "-sigfile", str(tmp_path / "sig.bin")]
    proc = subprocess.run([*command, *files], capture_output=True, text=True)
    assert proc.returncode == 0 and "Signature Verified Successfully" in proc.stdout


def test_every_altered_byte_fails(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    envelope, _, pub = signed
    data = envelope.read_bytes()
    key = load_public(pub)
    positions = sorted({*range(0, len(data), 53), *range(len(data) - 400, len(data))})
    for position in positions:
        altered = bytearray(data)
        altered[position] ^= 0x01
        result = verify(bytes(altered).decode("utf-8", errors="replace"), key, IMAGE_ID)
        assert not result.ok, f"byte {position} ({chr(data[position])!r}) altered, still verified"
    tampered = tmp_path / "tampered.json"
    altered = bytearray(data)
    altered[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(altered))
    proc = run_imagevet("attest", "verify", str(tampered), "--key", str(pub))
    assert proc.returncode == 1 and proc.stdout.startswith("NOT verified")


def test_keys_and_subjects(signed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    envelope, key, pub = signed
    made = run_imagevet("attest", "keygen", "--output-dir", str(tmp_path), "--name", "other")
    assert made.returncode == 0 and (tmp_path / "other.key").stat().st_mode & 0o777 == 0o600
    again = run_imagevet("attest", "keygen", "--output-dir", str(tmp_path), "--name", "other")
    assert again.returncode == 2 and "not overwriting" in again.stderr
    other = run_imagevet("attest", "verify", str(envelope), "--key", str(tmp_path / "other.pub"))
    assert other.returncode == 1 and "no signature verifies" in other.stdout
    subject = run_imagevet(
        "attest", "verify", str(envelope), "--key", str(pub), "--image-id", "ami-0ffffffffffffffff"
    )
    assert subject.returncode == 1 and "not ami-0ffffffffffffffff" in subject.stdout
    openssl(
        "genpkey", "-algorithm", "rsa", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(tmp_path / "rsa.pem")
    )
    openssl("pkey", "-in", str(tmp_path / "rsa.pem"), "-pubout", "-out", str(tmp_path / "rsa.pub"))
    for bad_key, message in [
        (tmp_path / "missing.pub", "cannot read public key"),
        (key, "this is a private key"),
        (tmp_path / "rsa.pub", "not an Ed25519 public key"),
    ]:
        proc = run_imagevet("attest", "verify", str(envelope), "--key", str(bad_key))
        assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    missing = run_imagevet("attest", "verify", str(tmp_path / "none.json"), "--key", str(pub))
    assert missing.returncode == 2
    sign_with_rsa = run_imagevet("attest", "/", "--image-id", "x", "--key", str(tmp_path / "rsa.pem"))
    assert sign_with_rsa.returncode == 2 and "not an Ed25519 private key" in sign_with_rsa.stderr
    usage = run_imagevet("attest", "verify")
    assert usage.returncode == 2 and "usage" in usage.stderr


def test_reports_made_elsewhere_are_signed(debian_root: Path, tmp_path: Path) -> None:
    """The Packer build downloads audit.json and sbom.spdx.json; CI signs them with --audit/--sbom."""
    audit, sbom = tmp_path / "audit.json", tmp_path / "sbom.spdx.json"
    run_imagevet("audit", str(debian_root), "-f", "json", "-o", str(audit), "--as-of", AS_OF_DATE)
    assert run_imagevet("packages", str(debian_root), "-f", "spdx", "-o", str(sbom)).returncode == 0
    assert run_imagevet("attest", "keygen", "--output-dir", str(tmp_path)).returncode == 0
    digest = "sha256:" + "ab" * 32
    common = ["--image-id", IMAGE_ID, "--key", str(tmp_path / "imagevet.key"), "--digest", digest]
    made = run_imagevet(
        "attest", *common, "--audit", str(audit), "--sbom", str(sbom), "-o", str(tmp_path / "a.json")
    )
    assert made.returncode == 0, made.stderr
    checked = run_imagevet(
        "attest", "verify", str(tmp_path / "a.json"), "--key", str(tmp_path / "imagevet.pub")
    )
    assert checked.returncode == 0 and "'sha256': '" + "ab" * 32 in checked.stdout
    wrong = run_imagevet("attest", *common, "--audit", str(sbom), "--sbom", str(sbom))
    assert wrong.returncode == 2 and "not an imagevet/audit/v1 report" in wrong.stderr
    no_digest = run_imagevet("attest", *common[:4], "--audit", str(audit), "--sbom", str(sbom))
    assert no_digest.returncode == 2 and "--digest" in no_digest.stderr
