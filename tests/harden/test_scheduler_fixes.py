"""`imagevet harden` for cron-restricted and at-restricted, applied in a chroot copy of the debootstrap root
with Debian's own cron and at installed from the archive (as tests/harden/test_install_fixes.py fetches), and
judged by the real oracles: the image's crontab and atq, run as a user.

After the fix a user not in the allow lists is refused by both, and one added to them is let in: Debian's
crontab is setgid crontab, so cron.allow must be readable by that group (root:root 0640 makes crontab fail
with "Permission denied", shown at the end). at.deny, which Debian's at package ships, stays. A second run
changes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.test_harden import AS_OF, chroot, snapshot
from tests.support.cli import run_imagevet

pytestmark = pytest.mark.real
CHECKS = ["cron-restricted", "at-restricted"]


def statuses(root: Path) -> list[Status]:
    return [r.status for r in run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), CHECKS).results]


def as_alice(root: Path, command: str) -> subprocess.CompletedProcess[str]:
    return chroot(root, "su", "-s", "/bin/sh", "alice", "-c", command)


@pytest.fixture
def scheduler_root(debian_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(root)], check=True)
    install = "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends cron at"
    done = chroot(root, "sh", "-c", f"{install} && useradd -m alice")
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def test_the_allow_lists_keep_a_user_out_until_named_and_a_second_run_changes_nothing(
    scheduler_root: Path,
) -> None:
    root = scheduler_root
    assert as_alice(root, "crontab -l").stderr.strip() == "no crontab for alice"  # everyone may, before
    assert statuses(root) == [Status.FAIL, Status.FAIL]
    script = root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(root), "--checks", ",".join(CHECKS), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0, made.stderr
    first = chroot(root, "/imagevet-harden.sh")
    assert first.returncode == 0, first.stdout + first.stderr
    assert statuses(root) == [Status.PASS, Status.PASS]
    assert "not allowed to use this program" in as_alice(root, "crontab -l").stderr
    assert "do not have permission" in as_alice(root, "atq").stderr
    assert (root / "etc/at.deny").stat().st_mode & 0o777 == 0o640  # Debian's own at.deny stays

    before_second = snapshot(root)
    second = chroot(root, "/imagevet-harden.sh")
    assert second.returncode == 0 and snapshot(root) == before_second, second.stderr

    for allow in ("etc/cron.allow", "etc/at.allow"):
        with (root / allow).open("a") as listed:
            listed.write("alice\n")
    assert as_alice(root, "crontab -l").stderr.strip() == "no crontab for alice"
    atq = as_alice(root, "atq")
    assert atq.returncode == 0 and atq.stderr == "", atq.stderr
    assert statuses(root) == [Status.PASS, Status.PASS]

    # Why the fix gives cron.allow to group crontab: root:root 0640 passes CIS's wording but crontab,
    # setgid crontab, cannot read it and refuses everyone listed.
    chroot(root, "chgrp", "root", "/etc/cron.allow")
    assert "/etc/cron.allow: Permission denied" in as_alice(root, "crontab -l").stderr


def test_a_cron_deny_is_kept_under_another_name(scheduler_root: Path) -> None:
    (scheduler_root / "etc/cron.deny").write_text("mallory\n")
    (scheduler_root / "etc/cron.deny.imagevet-disabled").write_text("from an earlier run\n")
    script = scheduler_root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(scheduler_root), "--checks", "cron-restricted", "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert chroot(scheduler_root, "/imagevet-harden.sh").returncode == 0
    assert not (scheduler_root / "etc/cron.deny").exists()
    assert (scheduler_root / "etc/cron.deny.imagevet-disabled").read_text() == "mallory\n"
    assert (scheduler_root / "etc/cron.deny.imagevet-disabled.~1~").read_text() == "from an earlier run\n"
    assert statuses(scheduler_root)[0] is Status.PASS
