"""CIS Benchmark numbers (cis.yaml): loaded and validated, matched to the image's release, carried into
audit references and the compliance report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from imagevet.audit import profiles, run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.cis import benchmark_for, builtin_benchmarks, parse_benchmarks
from imagevet.checks.metadata import builtin_metadata
from imagevet.compliance import assess, framework, recommendation_ids
from imagevet.errors import DataError
from imagevet.model import OsRelease
from imagevet.report.compliance import document
from imagevet.target import RootfsTarget

AS_OF = dt.date(2026, 11, 28)


def release(distro: str, version: str) -> OsRelease:
    return OsRelease(distro, version, distro, f"{distro} {version}", "", "", (), "debian", "/etc/os-release")


def test_four_benchmarks_cover_the_cis_profile() -> None:
    benchmarks = builtin_benchmarks()
    assert set(benchmarks) == {"ubuntu2204", "ubuntu2404", "debian12", "rhel9"}
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
        ("debian12", "filesystem-modules-disabled", "1.1.1.1"),
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
        ("debian", "11", None),
        ("ubuntu", "24.10", None),
        ("rocky", "9.4", None),  # CIS publishes Rocky's own benchmark; not carried
    ],
)
def test_benchmark_for_release(distro: str, version: str, expected: str | None) -> None:
    found = benchmark_for(release(distro, version))
    assert (found.key if found else None) == expected
    assert benchmark_for(None) is None


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
