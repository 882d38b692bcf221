"""Native id forms and the pure judgement: publishers, deprecation, age, alternatives."""

from __future__ import annotations

import datetime as dt

import pytest

from imagevet.catalog.store import bundled_catalog
from imagevet.provenance.ids import ImageIdError, parse_image_id
from imagevet.provenance.judge import judge
from imagevet.provenance.model import ImageRecord, Lookup, Verification
from tests.provenance.conftest import NOW


@pytest.mark.parametrize(
    ("cloud", "image_id", "parts"),
    [
        ("aws", "ami-0123456789abcdef0", {}),
        ("aws", "ami-12345678", {}),
        (
            "azure",
            "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest",
            {
                "publisher": "Canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts-gen2",
                "version": "latest",
            },
        ),
        (
            "azure",
            "/Subscriptions/abc/Providers/Microsoft.Compute/Locations/westeurope/Publishers/Debian"
            "/ArtifactTypes/VMImage/Offers/debian-12/Skus/12-gen2/Versions/0.20241010.1900",
            {
                "location": "westeurope",
                "publisher": "Debian",
                "offer": "debian-12",
                "sku": "12-gen2",
                "version": "0.20241010.1900",
            },
        ),
        (
            "gcp",
            "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20241009",
            {"project": "debian-cloud", "name": "debian-12-bookworm-v20241009"},
        ),
        (
            "gcp",
            "projects/ubuntu-os-cloud/global/images/ubuntu-2204-jammy-v20241001",
            {"project": "ubuntu-os-cloud", "name": "ubuntu-2204-jammy-v20241001"},
        ),
        ("gcp", "rhel-cloud/rhel-9-v20241009", {"project": "rhel-cloud", "name": "rhel-9-v20241009"}),
        ("alibaba", "ubuntu_22_04_x64_20G_alibase_20240130.vhd", {}),
        ("tencent", "img-487zeit5", {}),
    ],
)
def test_native_forms(cloud: str, image_id: str, parts: dict[str, str]) -> None:
    assert parse_image_id(cloud, image_id).parts == parts


@pytest.mark.parametrize(
    ("cloud", "image_id"),
    [
        ("aws", "ami-xyz"),
        ("aws", ""),
        ("azure", "Canonical:offer"),
        ("gcp", "no slash"),
        ("tencent", "img-1"),
        ("alibaba", "../../etc"),
        ("mars", "x"),
    ],
)
def test_malformed_ids_are_refused(cloud: str, image_id: str) -> None:
    with pytest.raises(ImageIdError):
        parse_image_id(cloud, image_id)


def verdict_for(cloud: str, image_id: str, record: ImageRecord | None, reason: str = "") -> Verification:
    catalog = bundled_catalog()
    return judge(catalog.clouds[cloud], catalog, parse_image_id(cloud, image_id), Lookup(record, reason), NOW)


def test_deprecated_official_image_fails_the_gate() -> None:
    record = ImageRecord(
        "ami-0123456789abcdef0",
        ("099720109477",),
        "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20230101",
        created=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
        deprecation_time=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    )
    result = verdict_for("aws", record.image_id, record)
    assert result.verdict == "official" and result.deprecated and result.gate_fails()
    later = ImageRecord(
        record.image_id, record.owners, record.name, deprecation_time=dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    )
    assert not verdict_for("aws", record.image_id, later).deprecated


def test_azure_publishers_compare_without_case_and_others_exactly() -> None:
    urn = "canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2:latest"
    result = verdict_for("azure", urn, ImageRecord(urn, ("canonical",), "22_04-lts-gen2"))
    assert result.verdict == "official" and result.version == "22.04"
    gcp = "projects/Debian-Cloud/global/images/debian-12"
    lookalike = verdict_for("gcp", gcp, ImageRecord(gcp, ("Debian-Cloud",), "debian-12"))
    assert lookalike.verdict == "unofficial"


def test_unknown_keeps_the_reason() -> None:
    result = verdict_for("aws", "ami-0123456789abcdef0", None, "no AWS credentials")
    assert result.verdict == "unknown" and result.reasons == ("no AWS credentials",)
