"""dpkg database reading (the rest of the inventory is a later issue) and the cloud-init version."""

from __future__ import annotations

import json
from pathlib import Path

from imagevet.facts.cloudinit import CloudInit, gather_cloudinit, parse_version_file, upstream_version
from imagevet.inventory.dpkg import gather_dpkg, package_of
from imagevet.inventory.dpkgdb import Database, load_status
from imagevet.model import Package, Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES


def by_name(found: object) -> dict[str, Package] | Unknown | None:
    """The by-name view the facts consumers take (cloud-init, updates)."""
    if isinstance(found, dict):
        return {package.name: package for package in found.values()}
    assert found is None or isinstance(found, Unknown)
    return found


def test_ubuntu_status_matches_trivy_expectation(shared_data: Path) -> None:
    case = shared_data / "pkgdb/dpkg/ubuntu-18.04-trivy"
    packages = gather_dpkg(RootfsTarget(str(case)))
    assert isinstance(packages, dict)
    expected = json.loads((case / "expected.json").read_text())
    items = expected if isinstance(expected, list) else expected.get("packages", expected.get("Packages", []))
    names = {item.get("name") or item.get("Name") for item in items}
    assert {name for name, _arch in packages} == names


def test_distroless_status_d(shared_data: Path) -> None:
    packages = gather_dpkg(RootfsTarget(str(shared_data / "pkgdb/dpkg/distroless-debian11-syft")))
    assert isinstance(packages, dict) and list(packages) == [("libsqlite3-0", "arm64")]


def test_source_with_version_and_removed_packages() -> None:
    text = (
        "Package: libfoo1\nStatus: install ok installed\nVersion: 1.2-3+b1\nArchitecture: amd64\n"
        "Source: foo (1.2-3)\nDescription: x\n long line\n\n"
        "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n"
        "Package: half\nStatus: install ok half-installed\nVersion: 1\n"
    )
    database = Database()
    load_status(database, text)
    # half-installed files are on disk (dpkg-query lists it too); config-files leaves only conffiles.
    package, half = (package_of(i) for i in database.instances())
    assert (package.source, package.source_version, package.version) == ("foo", "1.2-3", "1.2-3+b1")
    assert (half.name, half.version) == ("half", "1")


def test_no_database_is_none(tmp_path: Path) -> None:
    assert gather_dpkg(RootfsTarget(str(tmp_path))) is None


def test_cloud_init_from_dpkg_and_from_version_file() -> None:
    debian = RootfsTarget(str(FIXTURES / "rootfs/hardened-debian"))
    found = gather_cloudinit(debian, by_name(gather_dpkg(debian)))
    assert isinstance(found, CloudInit) and found.version == "22.4.2"
    rocky = RootfsTarget(str(FIXTURES / "rootfs/weak-rocky9"))
    found = gather_cloudinit(rocky, None)
    assert isinstance(found, CloudInit) and found.version == "21.1" and found.package_version is None


def test_cloud_init_version_helpers(tmp_path: Path) -> None:
    assert upstream_version("1:23.1.2-0ubuntu0~22.04.1") == "23.1.2"
    assert parse_version_file('__VERSION__ = "24.1"\n') == "24.1"
    assert parse_version_file("nothing") is None
    assert gather_cloudinit(RootfsTarget(str(tmp_path)), None) is None
    path = tmp_path / "usr/lib/python3/dist-packages/cloudinit/version.py"
    path.parent.mkdir(parents=True)
    path.write_text("garbage\n")
    assert isinstance(gather_cloudinit(RootfsTarget(str(tmp_path)), None), Unknown)
