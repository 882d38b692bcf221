"""file-perms-* checks: modes and owners of the account databases and sshd_config."""

from __future__ import annotations

import os
from pathlib import Path

from imagevet.model import Status
from tests.checks.support import statuses


def test_file_permissions(debian: Path) -> None:
    checks = ["file-perms-passwd", "file-perms-shadow", "file-perms-gshadow"]
    os.chmod(debian / "etc/passwd", 0o644)
    os.chmod(debian / "etc/shadow", 0o640)
    (debian / "etc/gshadow").unlink(missing_ok=True)
    got = statuses(debian, checks)
    assert got == {
        "file-perms-passwd": Status.PASS,
        "file-perms-shadow": Status.PASS,
        "file-perms-gshadow": Status.SKIP,
    }
    os.chmod(debian / "etc/shadow", 0o644)
    os.chmod(debian / "etc/passwd", 0o666)
    got = statuses(debian, checks)
    assert got["file-perms-shadow"] is Status.FAIL and got["file-perms-passwd"] is Status.FAIL
    (debian / "etc/passwd").unlink()
    assert statuses(debian, ["file-perms-passwd"])["file-perms-passwd"] is Status.ERROR


def test_sshd_config_permissions_follow_cis_0600(debian: Path) -> None:
    os.chmod(debian / "etc/ssh/sshd_config", 0o600)
    assert statuses(debian, ["file-perms-sshd-config"])["file-perms-sshd-config"] is Status.PASS
    os.chmod(debian / "etc/ssh/sshd_config", 0o644)  # Debian's default: CIS asks for og-rwx
    assert statuses(debian, ["file-perms-sshd-config"])["file-perms-sshd-config"] is Status.FAIL
