"""`imagevet harden`: the bash output applied for real in a chroot copy of the debootstrap root (the
re-audit passes what it addressed, a second run changes nothing), the #cloud-config validated by the
image's own cloud-init, the playbook by ansible-playbook --syntax-check."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from imagevet.audit import run_audit, select_checks
from imagevet.checks.base import CheckOptions
from imagevet.harden.bash import render_bash
from imagevet.harden.plan import Fix, Plan, plan_for
from imagevet.model import RemediationStep, Status
from imagevet.target import RootfsTarget
from tests.support.cli import run_imagevet

AS_OF = dt.date(2026, 11, 28)
# Failing on the debootstrap root and fixable without the network (no apt-get): the e2e applies these.
OFFLINE = [
    "ssh-password-auth", "ssh-root-login", "sysctl-rp-filter", "sysctl-swappiness", "file-perms-sshd-config",
    "ssh-max-auth-tries", "ssh-login-grace-time", "ssh-client-alive", "ssh-x11-forwarding",
    "sysctl-accept-redirects", "sysctl-send-redirects", "sysctl-log-martians", "sudo-logfile", "ssh-macs",
    "password-max-days", "password-min-days", "default-umask", "account-lockout", "core-dumps-restricted",
    "filesystem-modules-disabled", "tmp-separate",
]  # fmt: skip


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Mode and content digest of every regular file and link under the parts a fix may touch."""
    state = {}
    for top in ("etc", "usr/share/pam-configs", "var/lib/pam"):
        for path in sorted((root / top).rglob("*")):
            if path.is_symlink():
                state[str(path)] = (0, os.readlink(path))
            elif path.is_file():
                state[str(path)] = (path.stat().st_mode, hashlib.sha256(path.read_bytes()).hexdigest())
    return state


@pytest.fixture
def image_copy(debian_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(root)], check=True)
    return root


def test_bash_fixes_apply_in_the_image_and_are_idempotent(image_copy: Path) -> None:
    script = image_copy / "imagevet-harden.sh"
    checks = ",".join(OFFLINE)
    made = run_imagevet(
        "harden", str(image_copy), "--checks", checks, "--as-of", "2026-11-28", "-o", str(script)
    )
    assert made.returncode == 0, made.stderr
    assert "21 failing check(s) addressed" in made.stderr and os.access(script, os.X_OK)

    first = subprocess.run(
        ["chroot", str(image_copy), "/imagevet-harden.sh"], capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0 and "imagevet: hardening applied" in first.stdout, first.stderr
    assert first.stdout.count("imagevet: wrote") >= 15
    report = run_audit(RootfsTarget(str(image_copy)), CheckOptions(AS_OF), OFFLINE)
    assert {r.check: r.status for r in report.results} == dict.fromkeys(OFFLINE, Status.PASS)
    sudoers = image_copy / "etc/sudoers.d/50-imagevet-logfile"
    assert sudoers.stat().st_mode & 0o777 == 0o440
    assert subprocess.run(["chroot", str(image_copy), "visudo", "-c"], capture_output=True).returncode == 0

    before = snapshot(image_copy)
    second = subprocess.run(
        ["chroot", str(image_copy), "/imagevet-harden.sh"], capture_output=True, text=True, timeout=120
    )
    assert second.returncode == 0 and "imagevet: wrote" not in second.stdout
    assert snapshot(image_copy) == before


def test_cloud_config_is_valid_for_the_images_cloud_init(image_copy: Path) -> None:
    document = image_copy / "harden.yaml"
    made = run_imagevet(
        "harden", str(image_copy), "--emit", "cloud-init", "--as-of", "2026-11-28", "-o", str(document)
    )
    assert made.returncode == 0 and document.read_text().startswith("#cloud-config\n")
    proc = subprocess.run(
        ["chroot", str(image_copy), "cloud-init", "schema", "--config-file", "/harden.yaml"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0 and "Valid cloud-config" in proc.stdout, proc.stdout + proc.stderr


def test_ansible_playbook_passes_syntax_check(debian_root: Path, tmp_path: Path) -> None:
    playbook = tmp_path / "harden.yml"
    made = run_imagevet(
        "harden", str(debian_root), "--emit", "ansible", "--as-of", "2026-11-28", "-o", str(playbook)
    )
    assert made.returncode == 0
    ansible = shutil.which("ansible-playbook") or str(Path(sys.executable).with_name("ansible-playbook"))
    proc = subprocess.run(
        [ansible, "--syntax-check", "-i", "localhost,", str(playbook)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = playbook.read_text()
    assert "ansible.builtin.copy" in text and "when: ansible_facts['service_mgr']" in text


def test_nothing_to_fix_and_heredoc_delimiters(debian_root: Path) -> None:
    report = run_audit(
        RootfsTarget(str(debian_root)), CheckOptions(AS_OF), select_checks(["ssh-empty-passwords"])
    )
    plan = plan_for(report)
    assert plan.fixes == () and "Nothing to fix" in render_bash(plan)
    step = RemediationStep("file", "a\nIMAGEVET_EOF\nb\n", "/etc/x.conf")
    tricky = Plan("t", "os", "imagevet", (Fix("file-perms-passwd", "t", "low", (step,)),))
    script = render_bash(tricky)
    assert "<<'IMAGEVET_EOF_'" in script
    proc = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr


def test_a_failing_fix_is_named_and_the_others_still_apply(tmp_path: Path) -> None:
    broken = Fix("auditd-installed", "t", "low", (RemediationStep("command", "false"),))
    target = tmp_path / "written.conf"
    working = Fix("sudo-logfile", "t", "low", (RemediationStep("file", "x = 1\n", str(target)),))
    script = tmp_path / "fix.sh"
    script.write_text(render_bash(Plan("t", "os", "imagevet", (broken, working))))
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    assert proc.returncode == 1 and "1 fix(es) failed: auditd-installed" in proc.stderr
    assert target.read_text() == "x = 1\n" and target.stat().st_mode & 0o777 == 0o644
