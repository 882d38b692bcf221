"""The banner fixes on a chroot copy of the debootstrap root, whose /etc/issue, issue.net and motd are
Debian 12's own (base-files): each names the release, so each fails; the fix keeps the old text beside the
banner, writes the warning, keeps the file's mode, and a second run changes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.test_harden import AS_OF, chroot, snapshot
from tests.harden.test_harden import harden_in_chroot as harden

pytestmark = pytest.mark.real

CHECKS = ["banner-motd", "banner-issue", "banner-issue-net", "file-perms-motd", "file-perms-issue"]
WARNING = "Authorized users only. All activity may be monitored and reported.\n"


def test_the_banners_get_the_warning_and_the_old_text_is_kept(debian_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(root)], check=True)
    before = {name: (root / "etc" / name).read_text() for name in ("motd", "issue", "issue.net")}
    assert "Debian" in before["issue"] and "Debian" in before["motd"]

    def audit() -> list[Status]:
        return [r.status for r in run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), CHECKS).results]

    assert audit()[:3] == [Status.FAIL] * 3
    proc = harden(root, CHECKS[:3])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert audit() == [Status.PASS] * 5  # the modes stay 0644 root:root
    for name, text in before.items():
        assert (root / "etc" / name).read_text() == WARNING
        assert (root / "etc" / f"{name}.imagevet-old").read_text() == text
    before_second = snapshot(root)
    assert chroot(root, "/imagevet-harden.sh").returncode == 0 and snapshot(root) == before_second
