"""`imagevet verify --cloud gcp` through google-auth and the Compute Engine REST API against a local
HTTP peer: the OAuth token exchange (authorized-user credentials) and images.get / getFromFamily."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from imagevet.catalog.store import bundled_catalog
from imagevet.provenance.verify import verify_image
from tests.conftest import FIXTURES
from tests.provenance.conftest import NOW
from tests.support.cli import run_imagevet
from tests.support.cloud_api import CloudApi, serve

DATA = json.loads((FIXTURES / "cloud_api/gcp-images.json").read_text())
PREFIX = "/compute/v1/projects/"


def answer(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
    if path == "/token":
        assert (
            method == "POST" and b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in body
        )
        return 200, {"access_token": "ya29.test-token", "expires_in": 3600, "token_type": "Bearer"}
    if headers.get("authorization") != "Bearer ya29.test-token":
        return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials."}}
    project, _, rest = path.removeprefix(PREFIX).partition("/global/images/")
    key = f"{project}/{rest}"
    if rest.startswith("family/"):
        key = DATA["families"].get(f"{project}/{rest.removeprefix('family/')}", "")
    if key in DATA["images"]:
        return 200, DATA["images"][key]
    message = f"The resource 'projects/{project}/global/images/{rest}' was not found"
    return 404, {"error": {"code": 404, "message": message, "errors": [{"reason": "notFound"}]}}


@pytest.fixture
def gcp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CloudApi]:
    with serve(answer) as api:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        adc = tmp_path / "service-account.json"
        adc.write_text(
            json.dumps({"type": "service_account", "project_id": "audit-project", "private_key_id": "k1",
                        "private_key": pem, "client_email": "imagevet@audit-project.iam.gserviceaccount.com",
                        "client_id": "1", "token_uri": f"{api.url}/token"})
        )  # fmt: skip
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
        monkeypatch.setenv("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE", f"{api.url}/compute/v1/")
        monkeypatch.setenv("NO_GCE_CHECK", "True")
        monkeypatch.setenv("HOME", str(tmp_path))
        yield api


def test_deprecated_official_image_with_its_replacement(gcp: CloudApi) -> None:
    link = "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20240110"
    result = verify_image("gcp", link, bundled_catalog(), NOW)
    assert (result.verdict, result.publisher, result.distro, result.version) == (
        "official", "Debian (built by Google)", "debian", "12",
    )  # fmt: skip
    assert result.deprecated and result.gate_fails()
    assert result.newer_official == "projects/debian-cloud/global/images/debian-12-bookworm-v20261112"
    assert gcp.requests[0].path == "/token"
    current = verify_image("gcp", "debian-cloud/debian-12-bookworm-v20261112", bundled_catalog(), NOW)
    assert current.verdict == "official" and not current.deprecated and current.newer_official is None


def test_lookalike_project_is_unofficial(gcp: CloudApi) -> None:
    command = [
        "verify",
        "projects/my-sandbox-4711/global/images/debian-12-bookworm-v20261120",
        "--cloud",
        "gcp",
    ]
    proc = run_imagevet(*command, "-f", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and doc["verdict"] == "unofficial" and doc["owner"] == "my-sandbox-4711"
    assert any(a["family"] == "debian-12" and a["project"] == "debian-cloud" for a in doc["alternatives"])


def test_not_found_and_no_credentials(gcp: CloudApi, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = verify_image("gcp", "debian-cloud/debian-99", bundled_catalog(), NOW)
    assert missing.verdict == "unknown" and "not found" in missing.reasons[0]
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS")
    proc = run_imagevet("verify", "debian-cloud/debian-12", "--cloud", "gcp")
    assert (
        proc.returncode == 2
        and "no Google Cloud credentials" in proc.stderr
        and "Traceback" not in proc.stderr
    )
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
