"""`imagevet verify --cloud azure` through azure-identity (Azure CLI credential: the real subprocess
path, with an `az` on PATH that prints a token) and the ARM REST API served by a local HTTP peer."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from imagevet.catalog.store import bundled_catalog
from imagevet.provenance.verify import verify_image
from tests.conftest import FIXTURES
from tests.provenance.conftest import NOW
from tests.support.cli import run_imagevet
from tests.support.cloud_api import CloudApi, serve

IMAGES = json.loads((FIXTURES / "cloud_api/azure-images.json").read_text())["images"]
SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
JAMMY = "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2"


def answer(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
    if headers.get("authorization") != "Bearer eyJ0.test-arm-token":
        return 401, {
            "error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}
        }
    url = urlsplit(path)
    assert "api-version=2024-07-01" in url.query
    segments = [unquote(s) for s in url.path.split("/")]
    assert segments[1:5] == ["subscriptions", SUBSCRIPTION, "providers", "Microsoft.Compute"]
    publisher, offer, sku = segments[8], segments[12], segments[14]
    prefix = f"{publisher}:{offer}:{sku}:"
    matching = {k: v for k, v in IMAGES.items() if k.lower().startswith(prefix.lower())}
    if len(segments) == 16:  # .../versions: list
        if not matching:
            return 404, {"error": {"code": "NotFound", "message": "Artifact: VMImage was not found."}}
        return 200, [{"location": v["location"], "name": v["name"], "id": v["id"]} for v in matching.values()]
    image = matching.get(prefix + segments[16]) or next(
        (v for k, v in matching.items() if k.lower() == (prefix + segments[16]).lower()), None
    )
    if image is None:
        return 404, {"error": {"code": "NotFound", "message": "Artifact: VMImage was not found."}}
    return 200, image


@pytest.fixture
def azure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CloudApi]:
    with serve(answer) as api:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        az = bin_dir / "az"
        token = {"accessToken": "eyJ0.test-arm-token", "expires_on": int(time.time()) + 3600,
                 "subscription": SUBSCRIPTION, "tenant": "t", "tokenType": "Bearer"}  # fmt: skip
        az.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(token)}\nEOF\n")
        az.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
        monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "AzureCliCredential")
        monkeypatch.setenv("IMAGEVET_AZURE_ENDPOINT", api.url)
        monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION)
        yield api


def test_official_urn_latest_and_a_newer_version(azure: CloudApi) -> None:
    old = verify_image("azure", f"{JAMMY}:22.04.202401100", bundled_catalog(), NOW, "westeurope")
    assert (old.verdict, old.publisher, old.distro, old.version) == (
        "official",
        "Canonical",
        "ubuntu",
        "22.04",
    )
    assert old.newer_official == f"{JAMMY}:22.04.202611050" and not old.deprecated
    latest = verify_image("azure", f"{JAMMY}:latest", bundled_catalog(), NOW, "westeurope")
    assert latest.image_id == f"{JAMMY}:22.04.202611050" and latest.newer_official is None
    assert "/locations/westeurope/" in azure.requests[0].path


def test_deprecated_official_and_typosquatted_publisher(azure: CloudApi) -> None:
    deprecated = verify_image(
        "azure", "Debian:debian-11:11-backports-gen2:0.20230101.1000", bundled_catalog(), NOW
    )
    assert deprecated.verdict == "official" and deprecated.deprecated and deprecated.gate_fails()
    command = [
        "verify",
        "canonica1:0001-com-ubuntu-server-jammy:22_04-lts-gen2:22.04.202611200",
        "--cloud",
        "azure",
    ]
    proc = run_imagevet(*command, "-f", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and doc["verdict"] == "unofficial" and doc["owner"] == "canonica1"


def test_not_found_no_subscription_and_no_credentials(
    azure: CloudApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = verify_image("azure", "Canonical:no-such-offer:sku:1.0.0", bundled_catalog(), NOW)
    assert missing.verdict == "unknown" and "not found" in missing.reasons[0]
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID")
    assert (
        "AZURE_SUBSCRIPTION_ID" in verify_image("azure", f"{JAMMY}:latest", bundled_catalog(), NOW).reasons[0]
    )
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no az: no credential at all
    proc = run_imagevet("verify", f"{JAMMY}:latest", "--cloud", "azure")
    assert proc.returncode == 2 and "no Azure credentials" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
