"""The bundled catalog is consistent, and malformed data is rejected naming the file and the field."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from imagevet.catalog.loader import bundled_catalog, bundled_texts, parse_catalog
from imagevet.errors import DataError

REQUIRED = [
    "ubuntu-18.04",
    "ubuntu-20.04",
    "ubuntu-22.04",
    "ubuntu-24.04",
    "debian-10",
    "debian-11",
    "debian-12",
    "debian-13",
    "rhel-7",
    "rhel-8",
    "rhel-9",
    "rhel-10",
    "centos-7",
    "centos-8",
    "centos-stream-8",
    "centos-stream-9",
    "centos-stream-10",
    "rocky-8",
    "rocky-9",
    "rocky-10",
    "almalinux-8",
    "almalinux-9",
    "almalinux-10",
    "amzn-2",
    "amzn-2023",
    "alinux-2",
    "alinux-3",
    "alinux-4",
    "tencentos-2",
    "tencentos-3",
    "tencentos-4",
    "openEuler-22.03",
    "openEuler-24.03",
    "sles-15",
    "ol-8",
    "ol-9",
    "anolis-8",
]


def test_bundled_catalog_covers_the_required_releases() -> None:
    catalog = bundled_catalog()
    ids = {r.release for r in catalog.releases}
    assert set(REQUIRED) <= ids
    assert set(catalog.clouds) == {"aws", "azure", "alibaba", "tencent", "gcp"}
    for release in catalog.releases:
        assert release.sources, release.release
        if release.eol is None:
            assert "eol" in release.uncertain, f"{release.release}: an unknown end date must be flagged"


def test_every_offering_has_a_publisher_identity() -> None:
    for cloud in bundled_catalog().clouds.values():
        for offering in cloud.offerings:
            assert offering.publisher.ids, (cloud.key, offering.release)
            assert offering.publisher.key in cloud.publishers


def _mutate(name: str, old: str, new: str) -> dict[str, str]:
    texts = bundled_texts()
    assert old in texts[name], old
    texts[name] = texts[name].replace(old, new, 1)
    return texts


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "releases.yaml",
            "eol: 2029-05-31",
            "eol: someday",
            r"releases.yaml: releases\[3\] \(ubuntu-24.04\): field 'eol'",
        ),
        ("releases.yaml", "mac: apparmor", "mac: tomoyo", r"\(ubuntu-18.04\): field 'mac'"),
        ("releases.yaml", "lts: true", "lts: maybe", r"\(ubuntu-18.04\): field 'lts'"),
        (
            "releases.yaml",
            "    released: 2018-04-26\n",
            "",
            r"\(ubuntu-18.04\): field 'released': is missing",
        ),
        ("releases.yaml", "certifications: [cis, stig]", "certifications: [iso]", r"field 'certifications'"),
        (
            "releases.yaml",
            "release: debian-11",
            "release: debian-10",
            r"duplicate release id\(s\): debian-10",
        ),
        (
            "clouds.yaml",
            "release: amzn-2023, publisher: amazon",
            "release: amzn-2099, publisher: amazon",
            r"clouds.yaml: clouds.aws.offerings\[0\]: field 'release': 'amzn-2099'",
        ),
        (
            "clouds.yaml",
            "release: amzn-2023, publisher: amazon",
            "release: amzn-2023, publisher: nobody",
            r"clouds.aws.offerings\[0\]: field 'publisher'",
        ),
        ("clouds.yaml", "features: [imdsv2-default,", "features: [warp-drive,", r"field 'features': unknown"),
        (
            "scenarios.yaml",
            'ubuntu: [6, "fresh',
            'ubuntu: ["six", "fresh',
            r"scenarios.web-api: field 'prefer.ubuntu'",
        ),
        ("compliance.yaml", "any_of: [fips]", "any_of: [magic]", r"compliance.fips: field 'any_of'"),
        ("releases.yaml", "releases:\n", "releases: [\n", r"releases.yaml: not valid YAML"),
    ],
)
def test_malformed_data_names_file_and_field(name: str, old: str, new: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_catalog(_mutate(name, old, new))


def test_override_replaces_dates_of_known_releases_only() -> None:
    override = (
        "source: test\nfetched: 2026-11-01\n"
        "releases:\n  ubuntu-24.04: {eol: 2029-06-30}\n  ubuntu-99.04: {eol: 2099-01-01}\n"
    )
    catalog = parse_catalog(bundled_texts(), ("override.yaml", override))
    release = catalog.release("ubuntu-24.04")
    assert release is not None and release.eol == dt.date(2029, 6, 30)
    assert release.extended_eol == dt.date(2036, 5, 31)  # untouched
    assert catalog.release("ubuntu-99.04") is None


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("releases:\n  ubuntu-24.04: {mac: none}\n", "may only set"),
        ("releases:\n  ubuntu-24.04: {eol: soon}\n", "field 'eol'"),
        ("other: 1\nreleases: {}\n", "unknown top-level key"),
        ("[1, 2]\n", "top level must be a mapping"),
    ],
)
def test_bad_override_is_an_error(override: str, message: str) -> None:
    with pytest.raises(DataError, match=re.escape("override.yaml") + ".*" + message):
        parse_catalog(bundled_texts(), ("override.yaml", override))
