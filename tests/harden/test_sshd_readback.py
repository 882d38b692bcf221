"""The sshd fixes read their drop-ins back through the image's own `sshd -T` (harden/offline.py): a drop-in
that sshd does not use must fail its fix by name, not leave the script saying "applied" while the re-audit
fails. Both cases were found by the red-team of issue 20 and confirmed with OpenSSH 9.2's sshd -T:
an earlier-sorting drop-in sets the keyword first (sshd keeps the first value it reads), and a main
sshd_config without its Include line never reads the drop-ins at all."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.test_harden import AS_OF
from tests.harden.test_harden import harden_in_chroot as harden

pytestmark = pytest.mark.real


@pytest.fixture
def root(debian_root: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(copy)], check=True)
    return copy


def statuses(root: Path, checks: list[str]) -> list[Status]:
    return [r.status for r in run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), checks).results]


def test_an_earlier_drop_in_that_wins_fails_the_fix_by_name(root: Path) -> None:
    (root / "etc/ssh/sshd_config.d/00-site.conf").write_text("MaxAuthTries 10\nLoginGraceTime 2m\n")
    checks = ["ssh-max-auth-tries", "ssh-login-grace-time", "ssh-x11-forwarding"]
    proc = harden(root, checks)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "sshd does not use 'maxauthtries 4' (sshd -T: maxauthtries 10)" in proc.stderr
    assert "sshd does not use 'logingracetime 60' (sshd -T: logingracetime 120)" in proc.stderr
    failed = {
        line.split()[4] for line in proc.stderr.splitlines() if line.startswith("imagevet: the fix for")
    }
    assert failed == {"ssh-max-auth-tries", "ssh-login-grace-time"}  # X11Forwarding no is read back and holds
    assert statuses(root, checks) == [Status.FAIL, Status.FAIL, Status.PASS]


def test_a_main_config_without_its_include_fails_every_drop_in_fix(root: Path) -> None:
    config = root / "etc/ssh/sshd_config"
    text = config.read_text()
    assert "Include /etc/ssh/sshd_config.d/*.conf" in text
    config.write_text(
        text.replace("Include /etc/ssh/sshd_config.d/*.conf", "#Include /etc/ssh/sshd_config.d/*.conf")
    )
    proc = harden(root, ["ssh-root-login", "ssh-password-auth"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "imagevet: the fix for ssh-root-login failed" in proc.stderr
    assert "imagevet: the fix for ssh-password-auth failed" in proc.stderr
    assert "sshd does not use 'permitrootlogin no'" in proc.stderr


@pytest.mark.parametrize("before", [None, "", "Property of Example Corp. Authorised use only.\n"])
def test_the_banner_fix_gives_sshd_a_file_with_text_and_keeps_a_site_banner(
    root: Path, before: str | None
) -> None:
    """A Banner line naming a missing or empty file shows nothing; the fix writes a warning there, but
    only there: a site's own text stays as it was."""
    issue = root / "etc/issue.net"
    issue.unlink()
    if before is not None:
        issue.write_text(before)
    assert statuses(root, ["ssh-banner"]) == [Status.FAIL]
    proc = harden(root, ["ssh-banner"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert statuses(root, ["ssh-banner"]) == [Status.PASS]
    text = issue.read_text()
    assert text == (before or "Authorized users only. All activity may be monitored and reported.\n")
    again = harden(root, ["ssh-banner"])
    assert "imagevet: hardening applied" in again.stdout and issue.read_text() == text


def test_a_match_block_that_drops_the_banner_fails_the_fix(root: Path) -> None:
    """sshd -T without -C prints the global Banner only, so the read-back alone would say applied."""
    config = root / "etc/ssh/sshd_config"
    config.write_text(config.read_text() + "\nMatch User backup\n    Banner none\n")
    proc = harden(root, ["ssh-banner"])
    assert proc.returncode == 1
    assert "a Banner none in the sshd configuration (a Match block) still drops the banner" in proc.stderr
    assert statuses(root, ["ssh-banner"]) == [Status.FAIL]
