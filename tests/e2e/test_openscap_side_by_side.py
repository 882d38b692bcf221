"""Side by side with OpenSCAP's CIS Level 1 server profile, on the debootstrap root and on a hardened copy:
for every rule both tools judge, the verdicts agree, or the disagreement is documented (with its reason)
in docs/compliance.md."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.metadata import builtin_metadata
from imagevet.checks.registry import CHECKS
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.conftest import AS_OF_DAY, PROJECT
from tests.support.openscap import openscap_available, run_cis_profile

pytestmark = pytest.mark.real


def rule_to_check() -> dict[str, str]:
    """SSG rule ids named in each check's references ("SSG rule x" / "SSG rules x, y")."""
    mapping: dict[str, str] = {}
    for check, meta in builtin_metadata().items():
        for reference in meta.references:
            if reference.startswith("SSG rule"):
                for rule in re.split(r"[,\s]+", reference.split(" ", 2)[2]):
                    if rule:
                        mapping[rule] = check
    return mapping


def documented() -> set[str]:
    text = (PROJECT / "docs/compliance.md").read_text()
    section = text.split("## Where OpenSCAP and imagevet disagree", 1)[1]
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, re.MULTILINE))


def disagreements(root: Path, work: Path) -> dict[str, tuple[str, str]]:
    """Rules where the verdicts differ. A check may stand for several SSG rules (mode, owner and group of
    one file): it must fail if any of them fails, and pass if all of them pass."""
    oscap = run_cis_profile(root, work)
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF_DAY), list(CHECKS))
    ours = {r.check: r.status for r in report.results}
    rules_of: dict[str, list[str]] = {}
    for rule, check in rule_to_check().items():
        if oscap.get(rule) in ("pass", "fail"):
            rules_of.setdefault(check, []).append(rule)
    assert sum(map(len, rules_of.values())) >= 40, "too few rules judged by both tools to compare"
    found = {}
    for check, rules in rules_of.items():
        status = ours[check]
        if status is Status.PASS:
            found.update({rule: (oscap[rule], status.value) for rule in rules if oscap[rule] == "fail"})
        elif status is Status.FAIL and all(oscap[rule] == "pass" for rule in rules):
            found.update({rule: (oscap[rule], status.value) for rule in rules})
    return found


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    if not openscap_available():
        pytest.skip("openscap-utils and ssg-debderived are not installed")


def test_debootstrap_root_agrees_or_documents(debian_root: Path, tmp_path: Path) -> None:
    found = disagreements(debian_root, tmp_path / "oscap")
    assert set(found) <= documented(), {r: v for r, v in found.items() if r not in documented()}


def test_hardened_copy_agrees_or_documents(debian_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "hardened"
    subprocess.run(["cp", "-al", str(debian_root), str(root)], check=True)
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF_DAY), list(CHECKS))
    for result in report.results:
        if result.status is not Status.FAIL:
            continue
        for step in result.remediation:
            if step.kind == "file" and step.path:
                path = root / step.path.lstrip("/")
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(step.text)
    found = disagreements(root, tmp_path / "oscap")
    assert set(found) <= documented(), {r: v for r, v in found.items() if r not in documented()}
