"""CIS Benchmark numbers (cis.yaml): loaded and validated, matched to the image's release, carried into
audit references and the compliance report."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from imagevet.audit import profiles, run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.cis import (
    Listed,
    benchmark_for,
    builtin_benchmarks,
    level1_server,
    parse_benchmarks,
    parse_listed,
)
from imagevet.checks.metadata import builtin_metadata
from imagevet.compliance import assess, framework, recommendation_ids
from imagevet.errors import DataError
from imagevet.model import OsRelease
from imagevet.report.compliance import document
from imagevet.target import RootfsTarget

AS_OF = dt.date(2026, 11, 28)


def release(distro: str, version: str) -> OsRelease:
    return OsRelease(distro, version, distro, f"{distro} {version}", "", "", (), "debian", "/etc/os-release")


def test_six_benchmarks_cover_the_cis_profile() -> None:
    benchmarks = builtin_benchmarks()
    assert set(benchmarks) == {"ubuntu2204", "ubuntu2404", "debian12", "rhel9", "almalinux9", "al2023"}
    cis_profile = set(profiles()["cis-l1"][1])
    for benchmark in benchmarks.values():
        covered = set(benchmark.checks) & cis_profile
        assert len(covered) >= 30, (benchmark.key, len(covered))
        assert "ComplianceAsCode/content controls/" in benchmark.source


@pytest.mark.parametrize(
    ("key", "check", "number"),
    [
        # Independent public sources agree on these (SSG rule pages, CIS recommendation titles).
        ("ubuntu2204", "file-perms-sshd-config", "5.1.1"),
        ("ubuntu2404", "ssh-root-login", "5.1.20"),
        ("debian12", "ssh-max-auth-tries", "5.1.16"),
        ("rhel9", "ssh-max-auth-tries", "5.2.16"),
        ("rhel9", "file-perms-shadow", "6.1.5"),
        ("debian12", "kernel-module-cramfs", "1.1.1.1"),
    ],
)
def test_known_numbers(key: str, check: str, number: str) -> None:
    assert number in [r.id for r in builtin_benchmarks()[key].checks[check]]


@pytest.mark.parametrize(
    ("distro", "version", "expected"),
    [
        ("ubuntu", "22.04", "ubuntu2204"),
        ("ubuntu", "24.04", "ubuntu2404"),
        ("debian", "12", "debian12"),
        ("rhel", "9.4", "rhel9"),
        ("almalinux", "9.5", "almalinux9"),
        ("amzn", "2023", "al2023"),
        ("amzn", "2", None),
        ("almalinux", "8.10", None),
        ("debian", "11", None),
        ("ubuntu", "24.10", None),
        ("rocky", "9.4", None),  # CIS publishes Rocky's own benchmark; not carried
    ],
)
def test_benchmark_for_release(distro: str, version: str, expected: str | None) -> None:
    found = benchmark_for(release(distro, version))
    assert (found.key if found else None) == expected
    assert benchmark_for(None) is None
    if expected:  # parsed alone (an audit's path), it is the benchmark `compliance` reads with all others
        assert found == builtin_benchmarks()[expected] and found.checks


def test_bad_data_is_refused() -> None:
    known = set(builtin_metadata())
    good = {"title": "T", "os": {"id": "debian", "version": "12"}, "source": "s"}
    with pytest.raises(DataError, match="unknown check"):
        parse_benchmarks({"benchmarks": {"b": {**good, "checks": {"no-such-check": []}}}}, known)
    bad_level = {"ssh-root-login": [{"id": "1", "title": "t", "levels": ["l3_server"]}]}
    with pytest.raises(DataError, match="levels"):
        parse_benchmarks({"benchmarks": {"b": {**good, "checks": bad_level}}}, known)
    with pytest.raises(DataError, match="missing"):
        parse_benchmarks({"benchmarks": {"b": {"title": "T"}}}, known)
    with pytest.raises(DataError):
        parse_benchmarks(yaml.safe_load("[1, 2]"), known)


def test_audit_and_compliance_name_the_debian_numbers(debian_root: Path) -> None:
    frame = framework("cis-l1")
    report = run_audit(RootfsTarget(str(debian_root)), CheckOptions(AS_OF), frame.check_ids())
    references = {r.check: r.references for r in report.results}
    assert any(
        ref.startswith("CIS Debian Linux 12 Benchmark") and " 5.1.16: " in ref and "(Level 1 server)" in ref
        for ref in references["ssh-max-auth-tries"]
    )
    judged, coverage = assess(frame, report)
    doc = document(frame, report, judged, coverage)
    assert doc["benchmark"]["id"] == "debian12"
    by_id = {c["id"]: c for c in doc["controls"]}
    assert "5.1.16" in by_id["ssh-limits"]["recommendations"]
    assert all(c["recommendations"] == [] for c in doc["controls"] if not c["checks"])
    other = framework("pci-dss")
    assert recommendation_ids(other.controls[0], None) == []
    assert document(other, report, *assess(other, report))["benchmark"] is None


# The full Level 1 (server) lists (cis-l1-<benchmark>.yaml, converted from ComplianceAsCode's control
# files; counts as those files give them at the commits the headers name).
LISTED = {
    "ubuntu2204": (240, 17),
    "ubuntu2404": (251, 19),
    "debian12": (251, 19),
    "rhel9": (226, 21),
    "almalinux9": (235, 16),
    "al2023": (204, 20),
}


@pytest.mark.parametrize(("key", "counts"), sorted(LISTED.items()))
def test_each_listed_benchmark_is_complete_and_agrees_with_the_mappings(
    key: str, counts: tuple[int, int]
) -> None:
    listed = level1_server(key)
    assert (len(listed), sum(item.manual for item in listed)) == counts
    by_id = {item.id: item for item in listed}
    assert len(by_id) == len(listed)
    assert all(re.fullmatch(r"\d+(\.\d+)+", item.id) for item in listed)
    checks = builtin_benchmarks()[key].checks
    mapped = [r for recs in checks.values() for r in recs if "l1_server" in r.levels]
    assert len(mapped) >= 40
    for recommendation in mapped:  # every number cis.yaml maps is one the benchmark lists, with its title
        assert by_id[recommendation.id].title == recommendation.title, recommendation.id
    assert by_id["1.1.1.1"].ssg_rules
    if key not in ("rhel9", "almalinux9", "al2023"):  # the Debian family's numbering
        assert "5.1.16" in by_id and by_id["1.2.2.1"].manual


def test_rhel9_lists_both_numberings_of_its_file_each_decided_by_the_same_check() -> None:
    # ComplianceAsCode's RHEL 9 file carries 17 titles under a v1.0.0 and a v2.0.0 number: both are listed.
    by_id = {item.id: item for item in level1_server("rhel9")}
    assert by_id["1.1.2.4.2"].title == by_id["1.1.3.2"].title == "Ensure nodev option set on /var partition"
    mapped = {r.id for r in builtin_benchmarks()["rhel9"].checks["mount-var-nodev"]}
    assert mapped == {"1.1.2.4.2", "1.1.3.2"}
    assert level1_server("no-such-benchmark") == ()


GOOD_ITEM = {"id": "1.1", "title": "Ensure x", "kind": "automated", "ssg": ["rule_a"]}


@pytest.mark.parametrize(
    "data",
    [
        [GOOD_ITEM],  # no top-level mapping
        {"recommendations": {"1.1": GOOD_ITEM}},
        {"recommendations": [{**GOOD_ITEM, "kind": "Automated"}]},
        {"recommendations": [{**GOOD_ITEM, "id": 1.1}]},  # YAML float, not a number as text
        {"recommendations": [{**GOOD_ITEM, "ssg": "rule_a"}]},
        {"recommendations": [{**GOOD_ITEM, "ssg": [None]}]},
        {"recommendations": [{**GOOD_ITEM, "extra": 1}]},
        {"recommendations": [{k: v for k, v in GOOD_ITEM.items() if k != "title"}]},
        {"recommendations": ["1.1"]},
        {"recommendations": [GOOD_ITEM, {**GOOD_ITEM, "title": "again"}]},  # a number twice
    ],
)
def test_bad_lists_are_refused_naming_the_file(data: object) -> None:
    with pytest.raises(DataError, match=r"^cis-l1-x\.yaml: "):
        parse_listed("cis-l1-x.yaml", data)


def test_a_good_list_parses() -> None:
    manual = {**GOOD_ITEM, "id": "1.2", "kind": "manual", "ssg": []}
    assert parse_listed("f", {"recommendations": [GOOD_ITEM, manual]}) == (
        Listed("1.1", "Ensure x", False, ("rule_a",)),
        Listed("1.2", "Ensure x", True, ()),
    )


@pytest.mark.parametrize("partial", ["", "  ", 3, ["x"]])
def test_partial_must_say_what_is_left(partial: object) -> None:
    good = {"title": "T", "os": {"id": "debian", "version": "12"}, "source": "s"}
    checks = {"ssh-root-login": [{"id": "1", "title": "t", "levels": ["l1_server"], "partial": partial}]}
    with pytest.raises(DataError, match="partial"):
        parse_benchmarks({"benchmarks": {"b": {**good, "checks": checks}}}, set(builtin_metadata()))


def test_partial_mappings_are_the_ones_reviewed() -> None:
    partial = {
        check
        for benchmark in builtin_benchmarks().values()
        for check, recs in benchmark.checks.items()
        if any(r.partial for r in recs)
    }
    assert partial == {  # (the sysctl checks of one key where CIS asks for `all` and `default`: both judged)
        "password-max-days",
        "password-warn-age",
        "default-umask",
        "time-sync-installed",
        "updates-pending-security",
        "password-inactive",  # /etc/default/useradd, not each account's days in /etc/shadow
        "accounts-system-no-shell",  # RHEL 9 5.6.2 also asks for locked system-account passwords
        "packages-pam-pwquality",  # AlmaLinux 9 5.3.1.3 asks for the latest version
    }
    assert not any("logging-configured" in b.checks for b in builtin_benchmarks().values())
