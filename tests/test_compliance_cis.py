"""`imagevet compliance --framework cis-l1` on a release whose benchmark imagevet lists in full: one control
per Level 1 (server) recommendation, each decided by the checks mapped to its number or left to people
with the reason, and never met where its checks judge only part of it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from imagevet import compliance
from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.cis import Benchmark, Listed, Recommendation, builtin_benchmarks, level1_server
from imagevet.compliance import (
    MANUAL,
    MET,
    NOT_MET,
    UNDECIDED,
    Control,
    assess,
    for_image,
    framework,
    judge,
)
from imagevet.errors import DataError
from imagevet.model import CheckResult, Report, Severity, Status
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES, PROJECT
from tests.support.cli import run_imagevet

AS_OF = dt.date(2026, 11, 28)
HARDENED = FIXTURES / "rootfs/hardened-debian"  # Debian 12 (etc/os-release): the debian12 list applies


def result(check: str, status: Status) -> CheckResult:
    return CheckResult(check, check, Severity.MEDIUM, status, (), (), "", ())


def audit(root: Path) -> Report:
    return run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), framework("cis-l1").check_ids())


@pytest.fixture(scope="module")
def hardened() -> Report:
    return audit(HARDENED)


def test_one_control_per_listed_recommendation(hardened: Report) -> None:
    frame = for_image(framework("cis-l1"), hardened)
    listed = level1_server("debian12")
    assert [c.id for c in frame.controls] == [item.id for item in listed]
    assert [c.title for c in frame.controls] == [item.title for item in listed]
    assert all(c.recommendations == (c.id,) for c in frame.controls)
    assert frame.title.startswith("CIS Debian Linux 12 Benchmark") and "Level 1 (server)" in frame.title
    judged, coverage = assess(frame, hardened)
    assert coverage["controls"] == 251
    assert coverage["automated"] == sum(1 for j in judged if j.status != MANUAL)
    by_id = {j.control.id: j for j in judged}
    assert by_id["5.1.20"].status == MET and by_id["5.1.20"].control.checks == ("ssh-root-login",)
    assert by_id["5.1.16"].status == NOT_MET  # MaxAuthTries above 4 in the fixture


def test_recommendations_without_a_check_say_why(hardened: Report) -> None:
    judged = {j.control.id: j for j in assess(for_image(framework("cis-l1"), hardened), hardened)[0]}
    manual_rated = judged["1.2.1.1"]  # "Ensure GPG keys are configured" (CIS: Manual)
    assert manual_rated.status == MANUAL and "CIS rates it Manual" in (manual_rated.left_to_people or "")
    unjudged = judged["1.3.1.1"]  # "Ensure AppArmor is installed": automated in CIS, no imagevet check yet
    assert unjudged.status == MANUAL and unjudged.control.checks == ()
    assert unjudged.left_to_people == (
        "no imagevet check judges it yet (OpenSCAP rules: package_apparmor_installed, "
        "package_apparmor-utils_installed)"
    )


def test_a_check_that_judges_part_never_makes_it_met(hardened: Report, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(HARDENED, root, symlinks=True)
    (root / "etc/login.defs").write_text("PASS_MAX_DAYS 365\n")  # login.defs judged, /etc/shadow's days not
    report = audit(root)
    frame = for_image(framework("cis-l1"), report)
    judged, coverage = assess(frame, report)
    expiry = {j.control.id: j for j in judged}["5.4.1.1"]
    assert [r.status for r in expiry.results] == [Status.PASS]
    assert expiry.status == MANUAL
    assert "not each user's maximum in /etc/shadow" in (expiry.left_to_people or "")
    # a partial check that passes leaves its recommendation to people: fewer decided than mapped
    assert coverage["automated"] < sum(1 for c in frame.controls if c.checks)
    judged_hardened = {j.control.id: j for j in assess(for_image(framework("cis-l1"), hardened), hardened)[0]}
    # two checks that together judge the whole (IPv4 and IPv6 forwarding) decide it
    forwarding = judged_hardened["3.3.1"]
    assert forwarding.control.checks == ("sysctl-ip-forward", "sysctl-ipv6-forward")
    assert forwarding.control.partial is None and forwarding.status == NOT_MET  # neither key set in a file
    # a check of one recommendation's `all` and `default` keys decides it: both set in the fixture's file
    reverse_path = judged_hardened["3.3.7"]
    assert reverse_path.control.partial is None and reverse_path.status == MET
    assert judged_hardened["3.3.5"].status == NOT_MET  # a check that fails still fails the recommendation


def test_judge_of_partial_and_missing_results() -> None:
    check = "sysctl-ip-forward"
    partial = Control("3.3.1", "t", (check,), None, ("3.3.1",), "IPv6 is not judged")
    assert judge(partial, {check: result(check, Status.PASS)}).status == MANUAL
    assert judge(partial, {check: result(check, Status.FAIL)}).status == NOT_MET
    assert judge(partial, {check: result(check, Status.ERROR)}).status == UNDECIDED
    assert judge(partial, {}).status == UNDECIDED  # a check the audit did not run decides nothing
    whole = Control("x", "t", ("a", "b"), None)
    assert judge(whole, {"a": result("a", Status.PASS)}).status == UNDECIDED
    assert judge(whole, {"a": result("a", Status.PASS), "b": result("b", Status.PASS)}).status == MET


def fake_benchmark(checks: dict[str, tuple[Recommendation, ...]]) -> Benchmark:
    return Benchmark("debian12", "Fake", "debian", "12", "test", checks)


def test_a_check_judging_the_whole_decides_whatever_the_order(
    hardened: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    level = ("l1_server",)
    # ssh-root-login comes before ssh-empty-passwords in CHECKS; try the partial one on each side.
    for partial_check in ("ssh-root-login", "ssh-empty-passwords"):
        whole_check = ({"ssh-root-login", "ssh-empty-passwords"} - {partial_check}).pop()
        fake = fake_benchmark(
            {
                partial_check: (Recommendation("9.9", "Nine", level, "part of it"),),
                whole_check: (Recommendation("9.9", "Nine", level),),
            }
        )
        monkeypatch.setattr(compliance, "benchmark_for", lambda os, fake=fake: fake)
        monkeypatch.setattr(compliance, "level1_server", lambda key: (Listed("9.9", "Nine", False, ()),))
        (only,) = for_image(framework("cis-l1"), hardened).controls
        assert only.partial is None and set(only.checks) == {"ssh-root-login", "ssh-empty-passwords"}


def test_a_mapped_number_the_list_lacks_is_refused(hardened: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compliance, "level1_server", lambda key: (Listed("0.1", "Other", False, ()),))
    with pytest.raises(DataError, match=r"^cis\.yaml: debian12 maps checks to .*cis-l1-debian12\.yaml"):
        for_image(framework("cis-l1"), hardened)


def test_other_frameworks_and_releases_keep_their_controls(hardened: Report) -> None:
    assert for_image(framework("pci-dss"), hardened) == framework("pci-dss")
    rocky = audit(FIXTURES / "rootfs/weak-rocky9")  # no CIS benchmark carried for Rocky: the grouped view
    assert for_image(framework("cis-l1"), rocky) == framework("cis-l1")
    assert builtin_benchmarks()["rhel9"].key == "rhel9" and len(level1_server("rhel9")) == 226


def test_cli_reports_the_benchmark_per_recommendation(debian_root: Path) -> None:
    proc = run_imagevet("compliance", str(debian_root), "--framework", "cis-l1", "-f", "json", timeout=120)
    assert proc.returncode == 1, proc.stderr  # the stock debootstrap root fails Level 1
    document = json.loads(proc.stdout)
    coverage = document["coverage"]
    assert coverage["controls"] == len(document["controls"]) == 251
    assert coverage["automated"] + coverage["manual"] == 251 and coverage["automated"] >= 95
    for control in document["controls"]:
        assert control["recommendations"] == [control["id"]]
        if control["status"] == "manual":
            assert control["manual"], control["id"]  # every recommendation left to people says why
        else:
            assert control["checks"] and control["manual"] is None


@pytest.mark.parametrize("key", ["debian12", "ubuntu2404", "ubuntu2204", "rhel9", "almalinux9", "al2023"])
def test_the_documented_coverage_is_the_data(key: str) -> None:
    listed = level1_server(key)
    judged = {
        r.id for recs in builtin_benchmarks()[key].checks.values() for r in recs if "l1_server" in r.levels
    }
    row = f"| `{key}` | {len(listed)} | {sum(item.manual for item in listed)} | {len(judged)} |"
    assert row in (PROJECT / "docs/compliance.md").read_text()


def test_a_rhel9_image_is_reported_per_recommendation_of_its_benchmark() -> None:
    rhel = audit(FIXTURES / "rootfs/rhel9-eus")
    frame = for_image(framework("cis-l1"), rhel)
    assert len(frame.controls) == 226 and frame.title.startswith("CIS Red Hat Enterprise Linux 9")
    judged = [control for control in frame.controls if control.checks]
    assert len(judged) >= 120


@pytest.mark.parametrize(
    ("os_release", "title", "count"),
    [
        ('ID="almalinux"\nVERSION_ID="9.5"\n', "CIS AlmaLinux OS 9 Benchmark v2.0.0", 235),
        ('ID="amzn"\nVERSION_ID="2023"\n', "CIS Amazon Linux 2023 Benchmark v1.0.0", 204),
    ],
)
def test_almalinux_and_amazon_linux_get_their_own_benchmarks(
    tmp_path: Path, os_release: str, title: str, count: int
) -> None:
    """The RHEL 9 fixture with another os-release: the release, not the files, picks the benchmark."""
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "rootfs/rhel9-eus", root, symlinks=True)
    (root / "etc/os-release").unlink()
    (root / "etc/os-release").write_text(os_release)
    frame = for_image(framework("cis-l1"), audit(root))
    assert len(frame.controls) == count and frame.title.startswith(title)
    assert len([control for control in frame.controls if control.checks]) >= 110


OS_RELEASES = {
    "debian12": 'ID=debian\nVERSION_ID="12"\n',
    "ubuntu2204": 'ID=ubuntu\nVERSION_ID="22.04"\n',
    "ubuntu2404": 'ID=ubuntu\nVERSION_ID="24.04"\n',
    "rhel9": 'ID="rhel"\nVERSION_ID="9.4"\n',
    "almalinux9": 'ID="almalinux"\nVERSION_ID="9.5"\n',
    "al2023": 'ID="amzn"\nVERSION_ID="2023"\n',
}


@pytest.fixture(scope="module")
def pass_and_fail_roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The cis-pass and cis-fail cases (tests/checks/cases.py), built once."""
    from tests.checks.cases import CASES, build_root

    into = tmp_path_factory.mktemp("families")
    return {case.name: build_root(case, into) for case in CASES if case.name in ("cis-pass", "cis-fail")}


@pytest.mark.parametrize("key", sorted(OS_RELEASES))
def test_every_control_family_has_met_and_not_met_recommendations_on_each_benchmark(
    pass_and_fail_roots: dict[str, Path], key: str, tmp_path: Path
) -> None:
    """The pass and fail fixtures under each benchmark's release: in every section of the benchmark that
    imagevet judges (1 initial setup, 2 services, 3 network, 5 access, 6/7 accounts and files ...), the
    pass fixture meets recommendations and the fail fixture fails some, each decided by its own numbers."""
    by_section: dict[str, dict[str, set[str]]] = {}
    for name, built in pass_and_fail_roots.items():
        root = tmp_path / name
        shutil.copytree(built, root, symlinks=True)
        (root / "etc/os-release").unlink(missing_ok=True)
        (root / "etc/os-release").write_text(OS_RELEASES[key])
        report = audit(root)
        frame = for_image(framework("cis-l1"), report)
        assert frame.title.startswith(builtin_benchmarks()[key].title)
        for judged in assess(frame, report)[0]:
            by_section.setdefault(judged.control.id.split(".")[0], {}).setdefault(name, set()).add(
                judged.status
            )
    judged_sections = {s for s, seen in by_section.items() if seen.get("cis-pass", set()) - {"manual"}}
    assert len(judged_sections) >= 4, by_section
    for section in judged_sections:
        assert "met" in by_section[section]["cis-pass"], (key, section)
        assert "not-met" in by_section[section]["cis-fail"], (key, section)
