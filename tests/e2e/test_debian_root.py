"""End to end on a real Debian 12 root built with debootstrap (cached outside the repository).

Expected statuses were reasoned from what debootstrap installs (minbase + openssh-server, cloud-init,
sudo): Debian's stock sshd_config leaves PasswordAuthentication and PermitRootLogin at OpenSSH's
defaults, root's password is ``*``, there is no AppArmor, no unattended-upgrades and no sysctl.d
hardening, cloud-init is 22.4.2, and Debian 12's free (LTS) support ends 2028-06-30. The image's own
``sshd -T`` confirms the SSH part independently.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit, select_checks
from imagevet.checks.base import CheckOptions
from imagevet.checks.metadata import builtin_metadata
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.conftest import AS_OF_DATE, AS_OF_DAY
from tests.support.cli import run_imagevet

pytestmark = pytest.mark.real

EXPECTED = {
    "source-official": Status.SKIP,
    "ssh-password-auth": Status.FAIL,
    "ssh-root-login": Status.FAIL,
    "ssh-empty-passwords": Status.PASS,
    "accounts-empty-password": Status.PASS,
    "accounts-default-password": Status.PASS,
    "accounts-root-locked": Status.PASS,
    "mac-enforcing": Status.FAIL,
    "updates-automatic": Status.FAIL,
    "cloudinit-version": Status.PASS,
    "updates-pending-security": Status.ERROR,  # no advisory database given
    "sysctl-rp-filter": Status.FAIL,
    "sysctl-swappiness": Status.FAIL,
    "container-user": Status.SKIP,
    "os-lts": Status.PASS,
    "os-variant": Status.PASS,  # Debian sets no VARIANT_ID; the catalog knows the release is LTS
    "os-supported": Status.PASS,
    "os-support-window": Status.FAIL,
}


def statuses(root: Path) -> dict[str, Status]:
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF_DAY), select_checks(None))
    return {r.check: r.status for r in report.results}


def test_every_check_on_the_debootstrap_root(debian_root: Path) -> None:
    assert statuses(debian_root) == EXPECTED


HARDENING_EXPECTED = {
    "file-perms-passwd": "pass",
    "file-perms-group": "pass",
    "file-perms-shadow": "pass",
    "file-perms-gshadow": "pass",
    "file-perms-sshd-config": "fail",
    "ssh-host-keys": "pass",
    "ssh-max-auth-tries": "fail",
    "ssh-login-grace-time": "fail",
    "ssh-client-alive": "fail",
    "ssh-x11-forwarding": "fail",
    "ssh-ignore-rhosts": "pass",
    "ssh-hostbased-auth": "pass",
    "ssh-permit-user-env": "pass",
    "ssh-log-level": "pass",
    "sysctl-aslr": "fail",
    "sysctl-suid-dumpable": "fail",
    "sysctl-accept-redirects": "fail",
    "sysctl-send-redirects": "fail",
    "sysctl-source-route": "fail",
    "sysctl-log-martians": "fail",
    "sysctl-syncookies": "fail",
    "sysctl-ip-forward": "fail",
    "packages-insecure-absent": "pass",
    "time-sync-installed": "fail",
    "auditd-installed": "fail",
    "sudo-use-pty": "pass",
    "sudo-logfile": "fail",
    "tmp-separate": "fail",
    "password-quality": "fail",
    "account-lockout": "fail",
}


def test_hardening_checks_on_the_debootstrap_root(debian_root: Path) -> None:
    """Debian's defaults: sshd_config sets X11Forwarding yes, the kernel accepts and sends redirects, no
    chrony or auditd in minbase, sudo's stock sudoers has use_pty but no logfile, /tmp is not separate.
    The kernel-parameter checks whose kernel default is already right (ASLR, suid_dumpable, source routes,
    syncookies, forwarding) fail too: minbase sets none of them in a sysctl file, and CIS and OpenSCAP
    both require the setting to be written down, so a later package or boot option cannot change it."""
    report = run_audit(RootfsTarget(str(debian_root)), CheckOptions(AS_OF_DAY), list(HARDENING_EXPECTED))
    assert {r.check: r.status.value for r in report.results} == HARDENING_EXPECTED


def test_cli_json_end_to_end(debian_root: Path) -> None:
    proc = run_imagevet("audit", str(debian_root), "-f", "json", "--as-of", AS_OF_DATE)
    assert proc.returncode == 1  # high-severity failures (SSH, MAC) trip the default gate
    doc = json.loads(proc.stdout)
    assert doc["os"]["id"] == "debian" and doc["os"]["version_id"] == "12"
    assert {r["check"]: r["status"] for r in doc["results"]} == {k: v.value for k, v in EXPECTED.items()}


def test_image_sshd_agrees(debian_root: Path) -> None:
    """The image's own sshd binary, run in a chroot (with a private /run), as the oracle."""
    script = (
        f'mount -t tmpfs tmpfs "{debian_root}/run" && mkdir "{debian_root}/run/sshd" '
        f'&& exec chroot "{debian_root}" /usr/sbin/sshd -T'
    )
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    real = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    assert real["passwordauthentication"] == "yes"
    assert real["permitrootlogin"] in ("without-password", "prohibit-password")
    assert real["permitemptypasswords"] == "no"
    assert real["kbdinteractiveauthentication"] == "no" and real["usepam"] == "yes"


def test_pasted_fixes_make_the_checks_pass(debian_root: Path, tmp_path: Path) -> None:
    """Apply the file steps of each failing check's remediation to a copy; the re-audit passes them."""
    root = tmp_path / "root"
    # Hard-link copy: instant, and safe because we only ever create new files in it.
    subprocess.run(["cp", "-al", str(debian_root), str(root)], check=True)
    metadata = builtin_metadata()
    fixed = [
        "ssh-password-auth",
        "ssh-root-login",
        "sysctl-rp-filter",
        "sysctl-swappiness",
        "ssh-max-auth-tries",
        "ssh-login-grace-time",
        "ssh-client-alive",
        "ssh-x11-forwarding",
        "ssh-macs",
        "sysctl-accept-redirects",
        "sysctl-send-redirects",
        "sysctl-log-martians",
        "sysctl-aslr",
        "sysctl-suid-dumpable",
        "sysctl-source-route",
        "sysctl-syncookies",
        "sysctl-ip-forward",
        "core-dumps-restricted",
        "filesystem-modules-disabled",
        "sudo-logfile",
    ]
    for check in fixed:
        for step in metadata[check].remediation_for("debian"):
            if step.kind == "file":
                assert step.path is not None
                path = root / step.path.lstrip("/")
                assert not path.exists()
                if not path.parent.exists():  # e.g. coredump.conf.d: created, never an existing directory
                    path.parent.mkdir(parents=True)
                path.write_text(step.text)
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF_DAY), fixed)
    after = {r.check: r.status for r in report.results}
    assert {c: after[c] for c in fixed} == {c: Status.PASS for c in fixed}
    assert statuses(debian_root) == EXPECTED  # the cached root was not touched


def test_pasted_lockout_fix_runs_in_the_image(debian_root: Path, tmp_path: Path) -> None:
    """account-lockout's whole fix (pam-auth-update profiles, the command, faillock.conf) pasted into a
    shell inside a copy of the image: the image's own pam-auth-update rewrites the stacks and the
    re-audit passes; password-quality still fails (libpam-pwquality is not installed)."""
    root = tmp_path / "root"
    subprocess.run(["cp", "-al", str(debian_root), str(root)], check=True)
    for writable in ("etc", "usr/share/pam-configs"):  # real copies: the fix rewrites files there
        shutil.rmtree(root / writable)
        shutil.copytree(debian_root / writable, root / writable, symlinks=True)
    steps = builtin_metadata()["account-lockout"].remediation_for("debian")
    script = ["set -e"]
    for step in steps:
        if step.kind == "file":
            script.append(f"cat > {step.path} <<'IMAGEVET_EOF'\n{step.text}IMAGEVET_EOF")
        elif step.kind == "command":
            script.append(step.text)
    (root / "imagevet-fix.sh").write_text("\n".join(script) + "\n")
    proc = subprocess.run(
        ["chroot", str(root), "/bin/bash", "/imagevet-fix.sh"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "pam_faillock.so" in (root / "etc/pam.d/common-auth").read_text()
    report = run_audit(
        RootfsTarget(str(root)), CheckOptions(AS_OF_DAY), ["account-lockout", "password-quality"]
    )
    assert [r.status for r in report.results] == [Status.PASS, Status.FAIL]
    assert statuses(debian_root) == EXPECTED
