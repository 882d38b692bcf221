"""Lifecycle status over time, and the mapping from real os-release files to catalog releases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from imagevet.catalog.lifecycle import (
    END_OF_LIFE,
    EXTENDED_ONLY,
    SUPPORTED,
    UNKNOWN,
    find_release,
    lifecycle_status,
    release_id_for,
)
from imagevet.catalog.loader import bundled_catalog
from imagevet.facts.os_release import os_release_from_values, parse_os_release
from imagevet.model import OsRelease


def release(release_id: str):  # type: ignore[no-untyped-def]
    found = bundled_catalog().release(release_id)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("release_id", "as_of", "status", "days"),
    [
        ("ubuntu-22.04", dt.date(2027, 4, 1), SUPPORTED, 0),
        ("ubuntu-22.04", dt.date(2027, 4, 2), EXTENDED_ONLY, -1),
        ("ubuntu-22.04", dt.date(2032, 4, 10), END_OF_LIFE, -1836),
        ("centos-7", dt.date(2024, 7, 1), END_OF_LIFE, -1),
        ("debian-12", dt.date(2026, 11, 28), SUPPORTED, 580),
        ("tencentos-3", dt.date(2026, 11, 28), UNKNOWN, None),
    ],
)
def test_status_over_time(release_id: str, as_of: dt.date, status: str, days: int | None) -> None:
    got = lifecycle_status(release(release_id), as_of)
    assert (got.status, got.days_left) == (status, days)


EXPECTED_IDS = {
    "almalinux-9.4": "almalinux-9",
    "amzn-2": "amzn-2",
    "amzn-2023": "amzn-2023",
    "centos-7": "centos-7",
    "centos-8": "centos-8",
    "centos-stream-8": "centos-stream-8",
    "centos-stream-9": "centos-stream-9",
    "debian-12": "debian-12",
    "ol-8.10": "ol-8",
    "rhel-9.6": "rhel-9",
    "rocky-9.3": "rocky-9",
    "sles-15.3": "sles-15",
    "tencentos-3.1": "tencentos-3",
    "ubuntu-22.04": "ubuntu-22.04",
    "ubuntu-18.04": "ubuntu-18.04",
}


def test_real_os_release_files_map_to_their_release(shared_data: Path) -> None:
    catalog = bundled_catalog()
    for name, expected in EXPECTED_IDS.items():
        values = parse_os_release((shared_data / "os-release" / name).read_text())
        os = os_release_from_values(values, name)
        assert isinstance(os, OsRelease)
        found = find_release(os, catalog)
        assert found is not None and found.release == expected, (name, release_id_for(os))


def test_point_releases_map_to_their_release() -> None:
    def os(os_id: str, version: str, name: str = "") -> OsRelease:
        return OsRelease(os_id, version, name, "", "", "", (), "x", "x")

    assert release_id_for(os("ubuntu", "24.04.1")) == "ubuntu-24.04"
    assert release_id_for(os("openEuler", "24.03")) == "openeuler-24.03"
    assert find_release(os("openEuler", "24.03"), bundled_catalog()) is not None
    assert release_id_for(os("centos", "9", "CentOS Stream")) == "centos-stream-9"
