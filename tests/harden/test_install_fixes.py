"""`imagevet harden` for the Level 1 checks whose fix installs a package (AppArmor, chrony, rsyslog,
libpam-pwquality, AIDE and its database and timer, sudo, cron), applied for real in a chroot copy of the
debootstrap root: the image's own apt-get fetches from the Debian archive, as the root itself was made
(the package registries are the one network this suite may use). No service starts in the chroot:
invoke-rc.d blocks every start where no init system runs.

What this proves beyond "apt-get install works": the fixes run in an order that works in one pass (AIDE's
database is built last, after AIDE is installed and every other fix applied, harden/plan.py LAST); the AIDE
directories are given to _aide as aide-common's tmpfiles.d entries do at boot, without which aideinit
(which runs aide as _aide) fails in an image that has not booted; and a second run of the same script
installs nothing and keeps the AIDE database it built, never re-baselining what changed since."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.harden.plan import LAST
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.test_harden import AS_OF, chroot, snapshot
from tests.support.cli import run_imagevet

pytestmark = pytest.mark.real

CHECKS = [
    "mac-enforcing",
    "time-sync-installed",
    "password-quality",
    "packages-pam-pwquality",
    "password-unix-authtok",  # libpam-pwquality's profile gives pam_unix use_authtok
    "logging-configured",
    "aide-database",
    "aide-periodic",
    "packages-aide",
    "packages-sudo",
    "service-cron-enabled",  # cron installed, and its unit linked (by its package, then by the fix)
]
# Removed first, so that its check fails, as an image may ship without it. packages-pam-modules and
# packages-selinux cannot be shown the same way: without libpam-modules (Priority: required) every other
# apt-get install refuses the broken dependencies until it is back, and dpkg itself needs libselinux1.
UNINSTALL = "SUDO_FORCE_REMOVE=yes apt-get purge -y sudo"


def statuses(root: Path) -> dict[str, Status]:
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), CHECKS)
    return {r.check: r.status for r in report.results}


def processes_in(root: Path) -> list[str]:
    """The processes whose root directory is ``root`` (a daemon started in the chroot)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.readlink(proc / "root") == str(root):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


def database_digest(root: Path) -> str:
    return hashlib.sha256((root / "var/lib/aide/aide.db").read_bytes()).hexdigest()


def turn_apparmor_off_at_boot(root: Path) -> None:
    """The kernel command line turns AppArmor off, quoted each way, in both files the check reads. The
    root has no boot loader (grub-mkconfig needs a boot device to probe, which a chroot does not have), so
    update-grub is a recorder: what is proven is that the fix edits what the check reads and regenerates
    the boot configuration once, and only when it changed something."""
    (root / "etc/default/grub.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX_DEFAULT="apparmor=0 quiet"\n')
    (root / "etc/default/grub.d/50-cloud.cfg").write_text("GRUB_CMDLINE_LINUX='security=selinux'\n")
    recorder = root / "usr/sbin/update-grub"
    recorder.write_text("#!/bin/sh\necho called >> /update-grub.calls\n")
    recorder.chmod(0o755)


def test_the_install_fixes_work_in_one_pass_and_a_second_run_installs_and_rebuilds_nothing(
    debian_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(root)], check=True)
    removed = chroot(root, "sh", "-c", UNINSTALL)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    turn_apparmor_off_at_boot(root)
    assert statuses(root) == dict.fromkeys(CHECKS, Status.FAIL)
    script = root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(root), "--checks", ",".join(CHECKS), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0 and f"{len(CHECKS)} failing check(s) addressed" in made.stderr, made.stderr
    fixes = [
        line.split()[1] for line in script.read_text().splitlines() if line.startswith("imagevet_apply ")
    ]
    assert fixes[-len(LAST) :] == list(LAST)

    first = chroot(root, "/imagevet-harden.sh")
    applied = first.returncode == 0 and "imagevet: hardening applied" in first.stdout
    assert applied, first.stdout + first.stderr
    assert statuses(root) == dict.fromkeys(CHECKS, Status.PASS)
    chrony = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), ["service-chrony-enabled"]).results
    assert [r.status for r in chrony] == [Status.PASS]  # skipped before: chrony was not installed
    aide_dir = (root / "var/lib/aide").stat()
    assert aide_dir.st_mode & 0o7777 == 0o700
    assert chroot(root, "stat", "-c", "%U", "/var/lib/aide").stdout.strip() == "_aide"
    assert processes_in(root) == []  # no daemon was started by a maintainer script
    assert (root / "etc/default/grub").read_text() == 'GRUB_CMDLINE_LINUX_DEFAULT=" quiet"\n'
    assert (root / "etc/default/grub.d/50-cloud.cfg").read_text() == "GRUB_CMDLINE_LINUX=''\n"
    assert (root / "update-grub.calls").read_text() == "called\n"
    database = database_digest(root)

    before_second = snapshot(root)
    second = chroot(root, "/imagevet-harden.sh")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0 newly installed" in second.stdout and not re.search(
        r"[1-9][0-9]* newly installed", second.stdout
    )
    assert "Running aide --init" not in second.stdout
    assert database_digest(root) == database
    assert (root / "update-grub.calls").read_text() == "called\n"  # nothing left to change
    assert snapshot(root) == before_second
