"""`imagevet verify --cloud tencent` through tencentcloud-sdk-python against a local HTTP peer that
answers CVM DescribeImages with recorded API documents; the SDK signs (TC3-HMAC-SHA256) and parses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from imagevet.catalog.store import bundled_catalog
from imagevet.provenance.verify import verify_image
from tests.conftest import FIXTURES
from tests.provenance.conftest import NOW
from tests.support.cli import run_imagevet
from tests.support.cloud_api import CloudApi, serve

IMAGES = json.loads((FIXTURES / "cloud_api/tencent-images.json").read_text())["images"]


def answer(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
    request_id = "8f7f2c1e-0000-4000-8000-000000000000"
    if not headers.get("authorization", "").startswith("TC3-HMAC-SHA256 Credential=AKIDtest/"):
        return 200, {
            "Response": {
                "Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"},
                "RequestId": request_id,
            }
        }
    assert headers.get("x-tc-action") == "DescribeImages" and headers.get("x-tc-version") == "2017-03-12"
    params = json.loads(body or b"{}")
    if "ImageIds" in params:
        found = [i for i in IMAGES if i["ImageId"] in params["ImageIds"]]
        if not found:
            error = {"Code": "InvalidImageId.NotFound", "Message": "The specified image does not exist."}
            return 200, {"Response": {"Error": error, "RequestId": request_id}}
    else:
        wanted = {f["Name"]: f["Values"] for f in params.get("Filters", [])}
        found = [
            i for i in IMAGES
            if i["ImageType"] in wanted.get("image-type", [i["ImageType"]])
            and i["Platform"] in wanted.get("platform", [i["Platform"]])
        ]  # fmt: skip
    return 200, {"Response": {"TotalCount": len(found), "ImageSet": found, "RequestId": request_id}}


@pytest.fixture
def tencent(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudApi]:
    with serve(answer) as api:
        monkeypatch.setenv("IMAGEVET_TENCENT_ENDPOINT", api.url)
        monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDtest")
        monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "secret")
        monkeypatch.setenv("HOME", "/nonexistent")  # no profile file
        yield api


def test_official_public_image_and_its_newer_build(tencent: CloudApi) -> None:
    result = verify_image("tencent", "img-22040001", bundled_catalog(), NOW, "ap-singapore")
    assert (result.verdict, result.publisher, result.owner) == (
        "official",
        "Tencent Cloud (public images)",
        "PUBLIC_IMAGE",
    )
    assert (result.distro, result.version, result.newer_official) == ("ubuntu", "22.04", "img-22040002")
    assert json.loads(tencent.requests[0].body) == {"ImageIds": ["img-22040001"]}
    assert tencent.requests[0].headers["x-tc-region"] == "ap-singapore"


def test_shared_lookalike_is_unofficial(tencent: CloudApi) -> None:
    result = verify_image("tencent", "img-fake0001", bundled_catalog(), NOW)
    assert result.verdict == "unofficial" and result.owner == "SHARED_IMAGE"
    assert any(a["release"] == "ubuntu-22.04" for a in result.alternatives)
    proc = run_imagevet("verify", "img-fake0001", "--cloud", "tencent", "-f", "json")
    assert proc.returncode == 1 and json.loads(proc.stdout)["verdict"] == "unofficial"


def test_not_found_wrong_key_and_no_credentials(tencent: CloudApi, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = verify_image("tencent", "img-00000000", bundled_catalog(), NOW)
    assert missing.verdict == "unknown" and "not found" in missing.reasons[0]
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDother")
    denied = verify_image("tencent", "img-22040001", bundled_catalog(), NOW)
    assert denied.verdict == "unknown" and "access denied" in denied.reasons[0]
    monkeypatch.delenv("TENCENTCLOUD_SECRET_ID")
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY")
    before = len(tencent.requests)
    proc = run_imagevet("verify", "img-22040001", "--cloud", "tencent")
    assert (
        proc.returncode == 2
        and "no Tencent Cloud credentials" in proc.stderr
        and "Traceback" not in proc.stderr
    )
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert len(tencent.requests) == before  # nothing sent without credentials


def test_unreachable_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEVET_TENCENT_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDtest")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "secret")
    result = verify_image("tencent", "img-22040001", bundled_catalog(), NOW)
    assert result.verdict == "unknown" and "cannot reach" in result.reasons[0]
