"""Package database readers on real databases: debootstrap's dpkg, rpm-built SQLite, shared BDB/NDB/apk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from packageurl import PackageURL

from imagevet.inventory.collect import InventoryError, collect_inventory
from imagevet.model import OsRelease
from imagevet.target import RootfsTarget
from tests.inventory.dpkg_oracle import dpkg_query
from tests.support.rpmroot import PACKAGES, build_root, rpm_qa, rpm_tools_available

DEBIAN12 = OsRelease("debian", "12", "Debian GNU/Linux", "", "", "", (), "debian", "x")


def inventory_of(root: Path, os: OsRelease | None = None) -> dict[str, tuple[str, str]]:
    inventory = collect_inventory(RootfsTarget(str(root)), os)
    return {p.name: (p.version, p.arch) for p in inventory.packages}


def place(shared_file: Path, root: Path, image_path: str) -> Path:
    destination = root / image_path.lstrip("/")
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(shared_file, destination)
    return root


@pytest.mark.real
def test_debootstrap_root_equals_dpkg_query(debian_root: Path) -> None:
    expected = dpkg_query(debian_root / "var/lib/dpkg")
    assert expected is not None and len(expected) > 150
    inventory = collect_inventory(RootfsTarget(str(debian_root)), DEBIAN12)
    assert {(p.name, p.arch, p.version) for p in inventory.packages} == expected
    assert all(PackageURL.from_string(p.purl).type == "deb" for p in inventory.packages)
    # The audit's facts skip the purls (issue 19), and nothing else about a package differs.
    bare = collect_inventory(RootfsTarget(str(debian_root)), DEBIAN12, purls=False)
    assert {p.purl for p in bare.packages} == {""}
    assert [(p.name, p.version, p.source) for p in bare.packages] == [
        (p.name, p.version, p.source) for p in inventory.packages
    ]


@pytest.fixture(scope="module")
def rpm_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not rpm_tools_available():
        pytest.skip("rpm and rpmbuild are not installed")
    return build_root(tmp_path_factory.mktemp("rpm"))


@pytest.mark.real
def test_sqlite_rpmdb_equals_rpm_qa(rpm_root: Path) -> None:
    assert (rpm_root / "var/lib/rpm/rpmdb.sqlite").is_file()
    real = rpm_qa(rpm_root)
    inventory = collect_inventory(RootfsTarget(str(rpm_root)), None)
    ours = {(p.name, p.version, p.arch) for p in inventory.packages}
    assert ours == real and len(ours) == len(PACKAGES)
    beta = next(p for p in inventory.packages if p.name == "imagevet-beta")
    assert (beta.epoch, beta.release, beta.source, beta.source_version) == (
        2,
        "4.el9",
        "imagevet-beta",
        "2.3~rc1-4.el9",
    )
    assert beta.license == "GPL-2.0-or-later"


def _expected(path: Path) -> list[dict[str, object]]:
    data = json.loads(path.read_text())
    return data if isinstance(data, list) else data["packages"]  # type: ignore[no-any-return]


def _nevra(entry: dict[str, object]) -> tuple[str, str, str]:
    evr = f"{entry['Version']}-{entry['Release']}"
    if entry.get("Epoch") is not None:
        evr = f"{entry['Epoch']}:{evr}"
    return str(entry["Name"]), evr, str(entry["Arch"])


@pytest.mark.parametrize(
    ("case", "db", "image_path", "complete"),
    [
        ("sqlite-amazonlinux2023-gorpmdb", "rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite", True),
        ("sqlite-cbl-mariner2-gorpmdb", "rpmdb.sqlite", "/var/lib/rpm/rpmdb.sqlite", False),
        ("ndb-sles15-bci-gorpmdb", "Packages.db", "/usr/lib/sysimage/rpm/Packages.db", True),
        ("bdb-centos8-dive-syft", "Packages", "/var/lib/rpm/Packages", True),
        ("bdb-fedora32-epoch-scalibr", "Packages", "/var/lib/rpm/Packages", True),
        ("bdb-rhel8-libuuid-gorpmdb", "Packages", "/var/lib/rpm/Packages", False),
    ],
)
def test_rpm_sample_databases(
    shared_data: Path, tmp_path: Path, case: str, db: str, image_path: str, complete: bool
) -> None:
    folder = shared_data / "pkgdb/rpm" / case
    root = place(folder / db, tmp_path, image_path)
    inventory = collect_inventory(RootfsTarget(str(root)), None)
    ours = {(p.name, p.version, p.arch) for p in inventory.packages}
    expected = {_nevra(e) for e in _expected(folder / "expected.json")}
    if complete:
        assert ours == expected
    else:
        assert expected <= ours
    assert inventory.databases == (image_path,)
    for entry in _expected(folder / "expected.json"):
        package = next(p for p in inventory.packages if p.name == entry["Name"])
        if entry.get("SourceRpm"):
            assert package.source and package.source_version
            if entry["SourceRpm"] != "(none)":
                assert f"{package.source}-{package.source_version}" in str(entry["SourceRpm"])
        if entry.get("License"):
            assert package.license == entry["License"]


@pytest.mark.parametrize("case", ["alpine-3.18-scalibr", "alpine-3.16-syft"])
def test_apk_sample_databases(shared_data: Path, case: str) -> None:
    folder = shared_data / "pkgdb/apk" / case
    inventory = collect_inventory(RootfsTarget(str(folder)), None)
    assert all(p.type == "apk" for p in inventory.packages)
    expected_file = folder / "expected.json"
    if not expected_file.exists():
        assert len(inventory.packages) == 14
        return
    expected = {(e["Name"], e["Version"]) for e in json.loads(expected_file.read_text())}
    assert {(p.name, p.version) for p in inventory.packages} == expected
    origins = {
        e["Name"]: e.get("OriginName") or e.get("SrcName") for e in json.loads(expected_file.read_text())
    }
    for package in inventory.packages:
        assert package.source == origins[package.name]


def test_apk_sample_that_apk_refuses(shared_data: Path, tmp_path: Path) -> None:
    """trivy's sample ends without a newline (cut: apk never writes that) and holds a package without a
    version, for which apk-tools refuses the whole database ("Installed database load failed")."""
    source = shared_data / "pkgdb/apk/alpine-3.4-mixed-trivy/lib/apk/db/installed"
    with pytest.raises(InventoryError, match=r"installed: line \d+: .*does not end with a newline"):
        collect_inventory(RootfsTarget(str(source.parents[3])), None)
    root = _write(tmp_path, "/lib/apk/db/installed", source.read_bytes() + b"\n")
    with pytest.raises(InventoryError, match=r"line \d+: a package without a version"):
        collect_inventory(RootfsTarget(str(root)), None)


def test_distroless_and_status_d(shared_data: Path) -> None:
    inventory = collect_inventory(
        RootfsTarget(str(shared_data / "pkgdb/dpkg/distroless-debian11-syft")), None
    )
    (package,) = inventory.packages
    assert (package.name, package.version, package.source) == ("libsqlite3-0", "3.34.1-3", "sqlite3")


def test_purls(shared_data: Path, tmp_path: Path) -> None:
    root = place(
        shared_data / "pkgdb/rpm/bdb-fedora32-epoch-scalibr/Packages", tmp_path, "/var/lib/rpm/Packages"
    )
    fedora = OsRelease("fedora", "32", "Fedora", "", "", "", (), "rhel", "x")
    (hello,) = collect_inventory(RootfsTarget(str(root)), fedora).packages
    assert hello.purl == "pkg:rpm/fedora/hello@0.0.1-rls?arch=x86_64&distro=fedora-32&epoch=1"
    debian = collect_inventory(RootfsTarget(str(shared_data / "pkgdb/dpkg/debian-12-scalibr")), DEBIAN12)
    purls = {p.name: p.purl for p in debian.packages}
    assert all(purl.startswith("pkg:deb/debian/") and "distro=debian-12" in purl for purl in purls.values())
    epoch_package = next(p for p in debian.packages if ":" in p.version)
    parsed = PackageURL.from_string(epoch_package.purl)  # the purl round-trips, epoch included
    assert (parsed.name, parsed.version, parsed.qualifiers) == (
        "attr",
        "1:2.5.1-4",
        {"arch": "amd64", "distro": "debian-12"},
    )


def _write(root: Path, image_path: str, data: bytes) -> Path:
    destination = root / image_path.lstrip("/")
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)
    return root


@pytest.mark.parametrize(
    ("image_path", "source", "cut"),
    [
        ("/var/lib/rpm/rpmdb.sqlite", "sqlite-amazonlinux2023-gorpmdb/rpmdb.sqlite", 8192),
        ("/var/lib/rpm/Packages", "bdb-rhel8-libuuid-gorpmdb/Packages", 20000),
        ("/usr/lib/sysimage/rpm/Packages.db", "ndb-sles15-bci-gorpmdb/Packages.db", 6000),
        ("/var/lib/rpm/Packages", None, 0),
        ("/var/lib/rpm/rpmdb.sqlite", None, 0),
        ("/usr/lib/sysimage/rpm/Packages.db", None, 0),
    ],
)
def test_truncated_or_garbage_databases_name_the_file(
    shared_data: Path, tmp_path: Path, image_path: str, source: str | None, cut: int
) -> None:
    data = (shared_data / "pkgdb/rpm" / source).read_bytes()[:cut] if source else b"\x13\x37" * 3000
    root = _write(tmp_path, image_path, data)
    with pytest.raises(InventoryError, match=image_path.replace(".", r"\.")):
        collect_inventory(RootfsTarget(str(root)), None)


def test_bdb_overflow_loop_does_not_hang(shared_data: Path, tmp_path: Path) -> None:
    data = bytearray((shared_data / "pkgdb/rpm/bdb-centos8-dive-syft/Packages").read_bytes())
    page_size = int.from_bytes(data[20:24], "little")
    # Point every overflow page's next-page link back at itself.
    for start in range(page_size, len(data), page_size):
        if data[start + 25] == 7:
            data[start + 16 : start + 20] = int.from_bytes(data[start + 8 : start + 12], "little").to_bytes(
                4, "little"
            )
            data[start + 22 : start + 24] = (1).to_bytes(2, "little")
    root = _write(tmp_path, "/var/lib/rpm/Packages", bytes(data))
    with pytest.raises(InventoryError, match=r"loops|truncated"):
        collect_inventory(RootfsTarget(str(root)), None)


def test_database_link_outside_the_image_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "host.sqlite"
    outside.write_bytes(b"not for you")
    root = tmp_path / "root"
    (root / "var/lib/rpm").mkdir(parents=True)
    (root / "var/lib/rpm/rpmdb.sqlite").symlink_to(str(outside))
    # The link is re-rooted inside the image, where nothing exists: nothing is read from the host, and a
    # database that is only a dangling link is an error (never "0 packages").
    with pytest.raises(InventoryError, match=r"rpmdb\.sqlite: cannot be read") as caught:
        collect_inventory(RootfsTarget(str(root)), None)
    assert "not for you" not in str(caught.value)
