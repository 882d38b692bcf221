"""SSH checks over the effective sshd configuration: the Python ones (password-auth) and the value rows."""

from __future__ import annotations

import shutil
from pathlib import Path

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.checks.support import AS_OF, audit, statuses


def test_sshd_parameters(debian: Path) -> None:
    checks = [
        "ssh-max-auth-tries",
        "ssh-login-grace-time",
        "ssh-client-alive",
        "ssh-x11-forwarding",
        "ssh-log-level",
    ]
    (debian / "etc/ssh/sshd_config.d/05-cis.conf").write_text(
        "MaxAuthTries 4\nLoginGraceTime 1m\nClientAliveInterval 300\nClientAliveCountMax 3\n"
        "X11Forwarding no\nLogLevel VERBOSE\n"
    )
    assert set(statuses(debian, checks).values()) == {Status.PASS}
    (debian / "etc/ssh/sshd_config.d/05-cis.conf").write_text("MaxAuthTries 10\nLogLevel QUIET\n")
    got = statuses(debian, checks)
    assert got["ssh-max-auth-tries"] is Status.FAIL and got["ssh-log-level"] is Status.FAIL
    assert got["ssh-client-alive"] is Status.FAIL  # ClientAliveInterval 0 by default: sessions never time out
    shutil.rmtree(debian / "etc/ssh")
    (debian / "usr/sbin/sshd").unlink()
    assert set(statuses(debian, checks).values()) == {Status.SKIP}


def test_sshd_config_problems_are_errors(copy_of) -> None:  # type: ignore[no-untyped-def]
    root = copy_of("hardened-debian")
    (root / "etc/ssh/sshd_config.d/00-hardening.conf").write_text("PasswordAuthentication sometimes\n")
    assert audit(root)["ssh-password-auth"] is Status.ERROR
    (root / "etc/ssh/sshd_config").unlink()
    statuses = audit(root)
    assert statuses["ssh-root-login"] is Status.ERROR  # sshd installed but its config is missing


def test_match_block_reopening_passwords_fails(copy_of) -> None:  # type: ignore[no-untyped-def]
    root = copy_of("hardened-debian")
    with (root / "etc/ssh/sshd_config").open("a") as handle:
        handle.write("Match User legacy\n    PasswordAuthentication yes\n    PermitRootLogin yes\n")
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), ["ssh-password-auth", "ssh-root-login"])
    assert [r.status for r in report.results] == [Status.FAIL, Status.FAIL]
    assert any("Match User legacy" in e.detail for e in report.results[0].evidence)


def test_kbd_interactive_with_pam_fails(copy_of) -> None:  # type: ignore[no-untyped-def]
    root = copy_of("hardened-debian")
    (root / "etc/ssh/sshd_config.d/00-hardening.conf").write_text("PasswordAuthentication no\n")
    with (root / "etc/ssh/sshd_config").open() as handle:
        assert "UsePAM yes" in handle.read()
    (root / "etc/ssh/sshd_config").write_text(
        (root / "etc/ssh/sshd_config").read_text().replace("KbdInteractiveAuthentication no", "")
    )
    assert audit(root)["ssh-password-auth"] is Status.FAIL
