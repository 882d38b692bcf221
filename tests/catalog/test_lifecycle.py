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
from tests.conftest import AS_OF_DAY


def release(release_id: str):  # type: ignore[no-untyped-def]
    found = bundled_catalog().release(release_id)
    assert found is not None
    return found


@pytest.mark.parametrize("release_id", ["ubuntu-22.04", "rhel-9", "debian-12", "sles-15.7"])
def test_status_over_time(release_id: str) -> None:
    """Supported through the last free tier's last day, then extended-only while a paid tier runs, then
    end of life (dates read from the catalog: they are re-verified over time)."""
    found = release(release_id)
    free, paid = found.eol, found.extended_eol
    assert free is not None and paid is not None and paid > free
    day = dt.timedelta(days=1)
    assert (lifecycle_status(found, free).status, lifecycle_status(found, free).days_left) == (SUPPORTED, 0)
    assert lifecycle_status(found, free + day).status == EXTENDED_ONLY
    assert lifecycle_status(found, free + day).days_left == -1
    assert lifecycle_status(found, paid + day).status == END_OF_LIFE


def test_unknown_and_rolling() -> None:
    assert lifecycle_status(release("tencentos-3"), AS_OF_DAY).status == UNKNOWN
    rolling = lifecycle_status(release("flatcar"), dt.date(2030, 1, 1))
    assert (rolling.status, rolling.days_left) == (SUPPORTED, None)
    centos = release("centos-7")
    assert centos.eol is not None
    assert lifecycle_status(centos, centos.eol + dt.timedelta(days=1)).status in (END_OF_LIFE, EXTENDED_ONLY)


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
    assert release_id_for(os("sles", "15.7")) == "sles-15.7"
    assert release_id_for(os("sles_sap", "15.7")) == "sles-15.7"
    assert release_id_for(os("sles", "16")) == "sles-16.0"
    assert release_id_for(os("opensuse-leap", "15.6")) == "opensuse-leap-15.6"
    assert release_id_for(os("azurelinux", "3.0")) == "azurelinux-3"
    assert release_id_for(os("cos", "121")) == "cos-121"


def test_rolling_releases_are_found_by_their_id() -> None:
    def os(os_id: str, version: str, name: str = "") -> OsRelease:
        return OsRelease(os_id, version, name, "", "", "", (), "x", "x")

    found = find_release(os("flatcar", "4230.2.4"), bundled_catalog())
    assert found is not None and found.release == "flatcar"
    found = find_release(os("bottlerocket", "1.41.0"), bundled_catalog())
    assert found is not None and found.release == "bottlerocket"
    assert find_release(os("sles", "15.3"), bundled_catalog()) is None  # an SP the catalog does not list
    assert find_release(os("openEuler", "24.03"), bundled_catalog()) is not None
    assert release_id_for(os("centos", "9", "CentOS Stream")) == "centos-stream-9"
