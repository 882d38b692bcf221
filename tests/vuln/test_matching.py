"""Matching real and edge-case OSV records against real and constructed package inventories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagevet.inventory.collect import collect_inventory
from imagevet.model import OsRelease, Package
from imagevet.target import RootfsTarget
from imagevet.vuln import db
from imagevet.vuln.cvss import cvss3_base_score
from imagevet.vuln.ecosystem import ecosystems_for
from imagevet.vuln.importer import ImportStats, import_into, iter_inputs
from imagevet.vuln.matcher import Finding, evaluate_range, match_packages
from imagevet.vuln.osv import OsvError, parse_record
from tests.conftest import FIXTURES
from tests.support.advisories import fresh_stamp

UBUNTU_1804 = OsRelease("ubuntu", "18.04", "Ubuntu", "", "", "", ("debian",), "debian", "x")
DEBIAN_12 = OsRelease("debian", "12", "Debian GNU/Linux", "", "", "", (), "debian", "x")
ALMA_9 = OsRelease("almalinux", "9.4", "AlmaLinux", "", "", "", ("rhel",), "rhel", "x")


def build_db(tmp_path: Path, *sources: Path) -> Path:
    path = tmp_path / "osv.sqlite3"
    stats = ImportStats()
    import_into(path, iter_inputs(list(sources), stats), "test", fresh_stamp())
    return path


def findings(database: Path, packages: list[Package], os: OsRelease) -> list[Finding]:
    ecosystems = ecosystems_for(os)
    assert ecosystems is not None
    connection = db.open_readonly(database)
    found, warnings = match_packages(packages, ecosystems, lambda e, n: list(db.lookup(connection, e, n)))
    assert not warnings
    return found


def deb(name: str, version: str, source: str | None = None, source_version: str | None = None) -> Package:
    return Package(name, version, "amd64", source or name, source_version or version)


def test_real_usn_records_against_real_ubuntu_database(shared_data: Path, tmp_path: Path) -> None:
    database = build_db(tmp_path, shared_data / "osv")
    inventory = collect_inventory(
        RootfsTarget(str(shared_data / "pkgdb/dpkg/ubuntu-18.04-trivy")), UBUNTU_1804
    )
    found = findings(database, list(inventory.packages), UBUNTU_1804)
    expected = json.loads(
        (shared_data / "osv/ubuntu/expected-matches-vs-pkgdb-ubuntu-18.04-trivy.json").read_text()
    )
    assert {(f.id, f.package, f.source, f.installed, f.fixed) for f in found} == {
        (e["advisory"], e["binary"], e["source"], e["installed_source_version"], e["fixed"]) for e in expected
    }
    assert all("CVE-" in " ".join(f.aliases) for f in found)  # UBUNTU-CVE-… upstream ids become CVE aliases


def test_almalinux_epochs_and_binary_names(shared_data: Path, tmp_path: Path) -> None:
    database = build_db(tmp_path, shared_data / "osv/almalinux")
    packages = [
        Package(
            "openssl-libs", "1:3.0.1-41.el9_0", "x86_64", "openssl", "1:3.0.1-41.el9_0", "rpm", 1, "41.el9_0"
        ),
        Package("openssh", "8.7p1-30.el9_2", "x86_64", "openssh", "8.7p1-30.el9_2", "rpm", None, "30.el9_2"),
        Package("zlib", "1.2.11-40.el9", "x86_64", "zlib", "1.2.11-40.el9", "rpm", None, "40.el9"),
    ]
    found = {(f.id, f.package): f for f in findings(database, packages, ALMA_9)}
    # 1:3.0.1-41.el9_0 is the fix of ALSA-2022:6224 (not affected) but older than later fixes.
    assert ("ALSA-2022:6224", "openssl-libs") not in found
    assert found[("ALSA-2022:7288", "openssl-libs")].fixed == "1:3.0.1-43.el9_0"
    assert found[("ALSA-2022:7288", "openssl-libs")].severity == "high"  # "Important:" in the summary
    assert ("ALSA-2023:4412", "openssh") not in found  # installed == fixed
    assert found[("ALSA-2026:47756", "openssh")].fixed == "9.9p1-9.el9_8.alma.1"
    assert not any(package == "zlib" for _, package in found)  # 1.2.11-40 is newer than every zlib fix


@pytest.fixture
def edge_db(tmp_path: Path) -> Path:
    return build_db(tmp_path, FIXTURES / "osv")


def test_backports_and_merged_cve_records(edge_db: Path) -> None:
    old = findings(edge_db, [deb("openssh-server", "1:9.2p1-2+deb12u4", "openssh")], DEBIAN_12)
    assert [(f.id, f.fixed, f.score) for f in old] == [("DSA-9001-1", "1:9.2p1-2+deb12u5", 9.8)]
    assert set(old[0].aliases) == {
        "CVE-2026-1111",
        "DEBIAN-CVE-2026-1111",
    }  # the CVE record merged into the DSA
    assert old[0].severity == "critical"  # computed from the CVSS v3.1 vector
    assert findings(edge_db, [deb("openssh-server", "1:9.2p1-2+deb12u5", "openssh")], DEBIAN_12) == []
    assert findings(edge_db, [deb("openssh-server", "1:9.2p1-2+deb12u5~bpo1", "openssh")], DEBIAN_12)


def test_binary_to_source_version(edge_db: Path) -> None:
    # A binNMU: the binary version differs from the source version, which is what advisories use.
    binnmu = deb("openssh-client", "1:9.2p1-2+deb12u4+b1", "openssh", "1:9.2p1-2+deb12u4")
    assert [f.installed for f in findings(edge_db, [binnmu], DEBIAN_12)] == ["1:9.2p1-2+deb12u4"]


def test_ecosystem_mismatch_never_matches(edge_db: Path) -> None:
    assert findings(edge_db, [deb("zlib1g", "1:1.2.13.dfsg-1", "zlib")], DEBIAN_12) == []


def test_unfixed_last_affected_withdrawn_and_versions_list(edge_db: Path) -> None:
    packages = [
        deb("libc6", "2.36-9+deb12u4", "glibc"),
        deb("sudo", "1.9.13p3-1+deb12u1"),
        deb("bash", "5.2.15-2+b2", "bash", "5.2.15-2"),
        deb("tar", "1.34+dfsg-1.2"),
    ]
    found = {f.package: f for f in findings(edge_db, packages, DEBIAN_12)}
    assert found["libc6"].status == "unfixed" and found["libc6"].severity == "high"  # Debian urgency
    assert found["sudo"].matched.startswith("range introduced 1.9.0, last_affected")
    assert "bash" not in found  # withdrawn
    assert found["tar"].matched == "listed version 1.34+dfsg-1.2"
    newer_sudo = findings(edge_db, [deb("sudo", "1.9.13p3-1+deb12u2")], DEBIAN_12)
    assert newer_sudo == []  # after last_affected


def test_malformed_records_are_skipped_and_import_continues(tmp_path: Path) -> None:
    stats = ImportStats()
    result = import_into(tmp_path / "db", iter_inputs([FIXTURES / "osv"], stats), "t", fresh_stamp())
    assert result.records == 7 and result.skipped == 3
    assert any("not valid JSON" in w for w in result.warnings)
    assert any(w.endswith("broken-no-affected.json: 'affected' is not a list") for w in result.warnings)


def test_range_evaluation_rules() -> None:
    assert evaluate_range("1.5", (("introduced", "1.0"), ("fixed", "2.0")), "deb") == (True, "2.0")
    assert evaluate_range("2.0", (("introduced", "1.0"), ("fixed", "2.0")), "deb") == (False, None)
    assert evaluate_range("0.9", (("introduced", "1.0"), ("fixed", "2.0")), "deb") == (False, None)
    # Two intervals, events given out of order.
    events = (("fixed", "3.0"), ("introduced", "2.5"), ("introduced", "0"), ("fixed", "2.0"))
    assert evaluate_range("2.7", events, "deb") == (True, "3.0")
    assert evaluate_range("2.2", events, "deb") == (False, None)
    assert evaluate_range(
        "1.2.11-1ubuntu2.1~18.04.14", (("introduced", "0"), ("fixed", "1.2.11-1ubuntu2.1~18.04.15")), "deb"
    ) == (True, "1.2.11-1ubuntu2.1~18.04.15")


def test_parse_errors_and_cvss() -> None:
    with pytest.raises(OsvError):
        parse_record({"id": "X", "affected": [{"package": {"name": "a"}}]})
    with pytest.raises(OsvError):
        parse_record([])
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N") == 6.1
    assert cvss3_base_score("CVSS:3.0/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N") == 4.7
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H") == 10.0
    assert cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N") == 0.0
    assert cvss3_base_score("CVSS:2.0/AV:N") is None
    assert cvss3_base_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") is None


@pytest.mark.parametrize(
    ("os_id", "version", "names"),
    [
        ("debian", "12", ("Debian:12",)),
        ("ubuntu", "22.04", ("Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS")),
        ("ubuntu", "23.10", ("Ubuntu:23.10",)),
        ("almalinux", "9.4", ("AlmaLinux:9",)),
        ("rocky", "9.3", ("Rocky Linux:9",)),
        ("alpine", "3.20.3", ("Alpine:v3.20",)),
        ("sles", "15.5", ("SUSE:Linux Enterprise Server 15 SP5",)),
    ],
)
def test_ecosystems(os_id: str, version: str, names: tuple[str, ...]) -> None:
    found = ecosystems_for(OsRelease(os_id, version, "", "", "", "", (), "x", "x"))
    assert found is not None and found.names == names
