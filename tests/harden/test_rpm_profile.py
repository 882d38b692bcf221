"""The whole Red Hat script of the `cis-l1` profile, applied in one pass in the RHEL-shaped root
(tests/support/rpmrepo.py) with every package the fixes install in its repository, then re-audited: every
check that failed passes, except the few whose tool or decision this machine cannot provide, and those
fail by name. A second run changes nothing.

This is what shows the shared steps (sshd drop-ins, sysctl and modprobe files, modes, login.defs, sudo)
work in the Red Hat script too, in the order that script runs them, next to dnf."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.harden.test_harden import snapshot
from tests.harden.test_rpm_fixes import INSTALLED, red_hat_password_stacks, unit
from tests.support.cli import run_imagevet
from tests.support.rpmrepo import chroot, make_rhel_shaped, stand_in_rpm

pytestmark = pytest.mark.real

PACKAGES = {
    **INSTALLED,
    "rsyslog": {
        "/usr/lib/systemd/system/rsyslog.service": unit("System Logging Service", "multi-user.target")
    },
    "libpwquality": {},
    "selinux-policy-targeted": {},
    "cronie": {"/usr/lib/systemd/system/crond.service": unit("Command Scheduler", "multi-user.target")},
    "at": {"/etc/at.deny": ""},  # RHEL's at ships an empty at.deny
}
SCHEDULERS = ("cronie", "at")  # installed in the image before the audit, so that their checks apply
# Fixes that fail here, by name, and why: authselect is not packaged for Debian (the faillock and
# pwhistory features are authselect's), a stand-in aide has no aide to build a database with, and the
# root has no systemd (journald comes with it).
FAILING_HERE = {
    "account-lockout": "authselect",
    "password-history-enabled": "authselect",
    "password-history-remember": "authselect",
    "password-history-root": "authselect",
    "password-history-authtok": "authselect",
    "aide-database": "aide",
    "service-journald-enabled": "systemd",  # the stand-in root has no systemd, so no journald to unmask
}
NOTE_ONLY = {"ssh-access-limited"}  # who may log in is a decision: the fix is a note


def audit(root: Path) -> dict[str, str]:
    out = root.parent / "audit.json"
    done = run_imagevet("audit", str(root), "--profile", "cis-l1", "--as-of", "2026-11-28",
                        "--format", "json", "-o", str(out), "-q")  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return {r["check"]: r["status"] for r in json.loads(out.read_text())["results"]}


def test_the_red_hat_level_1_script_fixes_every_failing_check_it_can_in_one_pass(
    rhel_copy: Path, tmp_path: Path
) -> None:
    make_rhel_shaped(rhel_copy, [stand_in_rpm(tmp_path, name, files) for name, files in PACKAGES.items()])
    red_hat_password_stacks(rhel_copy, password_auth_calls_pwquality=True)
    installed = chroot(rhel_copy, "dnf", "install", "-y", *SCHEDULERS)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    (rhel_copy / "etc/default").mkdir(exist_ok=True)
    (rhel_copy / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX="console=ttyS0,115200n8 selinux=0"\n')
    before = audit(rhel_copy)
    failing = {check for check, status in before.items() if status == "fail"}
    assert len(failing) >= 62 and set(FAILING_HERE) | NOTE_ONLY <= failing
    assert {"selinux-boot-enabled", "selinux-not-disabled", "selinux-policy-configured"} <= failing
    assert {"cron-restricted", "at-restricted"} <= failing

    script = rhel_copy / "imagevet-harden.sh"
    made = run_imagevet("harden", str(rhel_copy), "--profile", "cis-l1", "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0 and "# Hardening for Red Hat Enterprise Linux 9.4" in script.read_text()
    first = chroot(rhel_copy, "/imagevet-harden.sh")
    assert first.returncode == 1, first.stdout + first.stderr
    failed = set(re.findall(r"imagevet: the fix for (\S+) failed", first.stderr))
    assert failed == set(FAILING_HERE), first.stderr
    after = audit(rhel_copy)
    still = {check for check in failing if after[check] != "pass"}
    assert still == set(FAILING_HERE) | NOTE_ONLY, {c: after[c] for c in still}
    assert all(after[check] == status for check, status in before.items() if status == "pass")

    before_second = snapshot(rhel_copy)
    second = chroot(rhel_copy, "/imagevet-harden.sh")
    assert set(re.findall(r"imagevet: the fix for (\S+) failed", second.stderr)) == set(FAILING_HERE)
    assert snapshot(rhel_copy) == before_second
    assert audit(rhel_copy) == after
