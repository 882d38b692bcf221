"""`imagevet verify --cloud alibaba` through alibabacloud-ecs20140526 against a local HTTP peer that
answers ECS DescribeImages (RPC, ACS3-HMAC-SHA256 signed) with recorded API documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from imagevet.catalog.store import bundled_catalog
from imagevet.provenance.verify import verify_image
from tests.conftest import FIXTURES
from tests.provenance.conftest import NOW
from tests.support.cli import run_imagevet
from tests.support.cloud_api import CloudApi, serve

IMAGES = json.loads((FIXTURES / "cloud_api/alibaba-images.json").read_text())["images"]
OLD, NEW = "ubuntu_22_04_x64_20G_alibase_20240130.vhd", "ubuntu_22_04_x64_20G_alibase_20261015.vhd"


def answer(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
    if not headers.get("authorization", "").startswith("ACS3-HMAC-SHA256 Credential=LTAItest,"):
        return 400, {
            "RequestId": "r",
            "Code": "InvalidAccessKeyId.NotFound",
            "Message": "Specified access key is not found.",
        }
    assert headers.get("x-acs-action") == "DescribeImages" and headers.get("x-acs-version") == "2014-05-26"
    query = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
    found = IMAGES
    if "ImageId" in query:
        found = [i for i in IMAGES if i["ImageId"] == query["ImageId"]]
        if not found:
            return 404, {
                "RequestId": "r",
                "Code": "InvalidImageId.NotFound",
                "Message": "The specified ImageId does not exist.",
            }
    if "ImageFamily" in query:
        found = [i for i in found if i["ImageFamily"] == query["ImageFamily"]]
    if "ImageOwnerAlias" in query:
        found = [i for i in found if i["ImageOwnerAlias"] == query["ImageOwnerAlias"]]
    page = {"RequestId": "r", "RegionId": query.get("RegionId"), "TotalCount": len(found), "PageNumber": 1}
    return 200, {**page, "PageSize": 10, "Images": {"Image": found}}


@pytest.fixture
def alibaba(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudApi]:
    with serve(answer) as api:
        monkeypatch.setenv("IMAGEVET_ALIBABA_ENDPOINT", api.url)
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAItest")
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
        yield api


def test_official_system_image_and_its_newer_build(alibaba: CloudApi) -> None:
    result = verify_image("alibaba", OLD, bundled_catalog(), NOW, "cn-shanghai")
    assert (result.verdict, result.owner, result.distro, result.version) == (
        "official",
        "system",
        "ubuntu",
        "22.04",
    )
    assert result.newer_official == NEW and not result.deprecated
    first = parse_qs(urlsplit(alibaba.requests[0].path).query)
    assert first["ImageId"] == [OLD] and first["RegionId"] == ["cn-shanghai"]


def test_deprecated_official_image_fails_the_gate(alibaba: CloudApi) -> None:
    result = verify_image("alibaba", "ubuntu_20_04_x64_20G_alibase_20230101.vhd", bundled_catalog(), NOW)
    assert result.verdict == "official" and result.deprecated and result.gate_fails()
    assert (result.distro, result.version) == ("ubuntu", "20.04")


def test_shared_lookalike_is_unofficial(alibaba: CloudApi) -> None:
    command = ["verify", "m-bp1fakeubuntu2204", "--cloud", "alibaba", "-f", "json"]
    proc = run_imagevet(*command)
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and doc["verdict"] == "unofficial" and doc["owner"] == "others"
    assert any(
        a["release"] == "ubuntu-22.04" and a["family"] == "acs:ubuntu_22_04_x64" for a in doc["alternatives"]
    )


def test_errors_are_unknown(alibaba: CloudApi, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = verify_image("alibaba", "m-doesnotexist", bundled_catalog(), NOW)
    assert missing.verdict == "unknown" and "not found" in missing.reasons[0]
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIother")
    denied = verify_image("alibaba", OLD, bundled_catalog(), NOW)
    assert denied.verdict == "unknown" and "access denied" in denied.reasons[0]
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
    nothing = verify_image("alibaba", OLD, bundled_catalog(), NOW)
    assert nothing.verdict == "unknown" and "no Alibaba Cloud credentials" in nothing.reasons[0]
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAItest")
    monkeypatch.setenv("IMAGEVET_ALIBABA_ENDPOINT", "http://127.0.0.1:9")
    unreachable = verify_image("alibaba", OLD, bundled_catalog(), NOW)
    assert unreachable.verdict == "unknown" and "cannot reach" in unreachable.reasons[0]
