"""`imagevet harden` for the nineteen mount-option checks, applied for real in a chroot copy of the
debootstrap root whose /etc/fstab mounts /tmp, /home, /var, /var/tmp, /var/log, /var/log/audit and /dev/shm
loosely (as an image built with separate partitions and default options would): the script, in the image's own
bash, dash and mawk, makes every check pass on the re-audit, a second run changes nothing, and the
playbook's form of the command reports a change exactly once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.fstab_fix import fstab_option_command
from imagevet.checks.metadata import builtin_metadata
from imagevet.harden.ansible import CHANGED, tracked_command
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.conftest import variant_root
from tests.harden.test_harden import AS_OF, chroot, leftovers, snapshot
from tests.support.cli import run_imagevet

pytestmark = pytest.mark.real

LOOSE_FSTAB = """\
# /etc/fstab: static file system information (an image with separate partitions, default options)
UUID=0a1b / ext4 errors=remount-ro 0 1
UUID=0a1c /home ext4 defaults 0 2
UUID=0a1d /var ext4 defaults,suid 0 2
UUID=0a1e /var/tmp ext4 defaults 0 2
UUID=0a1f /var/log ext4 defaults,dev,exec 0 2
UUID=0a20 /var/log/audit ext4 defaults 0 2
tmpfs /tmp tmpfs defaults,size=2G 0 0
tmpfs /dev/shm tmpfs defaults 0 0
"""


def mount_checks() -> list[str]:
    return [c for c, meta in builtin_metadata().items() if meta.value and meta.value[0].fact == "mounts"]


@pytest.fixture
def loose_root(debian_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(debian_root), str(root)], check=True)
    fstab = root / "etc/fstab"
    fstab.write_text(LOOSE_FSTAB)
    fstab.chmod(0o644)
    return root


def test_the_script_makes_every_mount_option_hold_and_a_second_run_changes_nothing(loose_root: Path) -> None:
    checks = mount_checks()
    assert len(checks) == 19
    before = run_audit(RootfsTarget(str(loose_root)), CheckOptions(AS_OF), checks)
    assert {r.check: r.status for r in before.results} == dict.fromkeys(checks, Status.FAIL)

    script = loose_root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(loose_root), "--checks", ",".join(checks), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0 and "19 failing check(s) addressed" in made.stderr, made.stderr
    first = chroot(loose_root, "/imagevet-harden.sh")
    assert first.returncode == 0 and "hardening applied" in first.stdout, first.stdout + first.stderr
    after = run_audit(RootfsTarget(str(loose_root)), CheckOptions(AS_OF), checks)
    assert {r.check: r.status for r in after.results} == dict.fromkeys(checks, Status.PASS)
    fstab = loose_root / "etc/fstab"
    assert fstab.stat().st_mode & 0o777 == 0o644 and fstab.stat().st_uid == 0
    lines = fstab.read_text().splitlines()
    assert lines[:2] == LOOSE_FSTAB.splitlines()[:2]  # the comment and / (no check asks of it) as written
    assert leftovers(loose_root) == [] and not list((loose_root / "etc").glob("fstab.imagevet-*"))

    settled = snapshot(loose_root)
    second = chroot(loose_root, "/imagevet-harden.sh")
    assert second.returncode == 0, second.stderr
    assert snapshot(loose_root) == settled


DEV_SHM_CHECKS = ["dev-shm-separate", "mount-dev-shm-nodev", "mount-dev-shm-nosuid", "mount-dev-shm-noexec"]
DEV_SHM_LINE = "tmpfs /dev/shm tmpfs defaults,nodev,nosuid,noexec 0 0\n"


def dev_shm_statuses(root: Path) -> dict[str, Status]:
    return {
        r.check: r.status
        for r in run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), DEV_SHM_CHECKS).results
    }


@pytest.mark.parametrize("variant", ["base", "systemctl-offline"])
def test_dev_shm_without_a_line_gets_one_and_then_every_dev_shm_check_passes(
    variant: str, tmp_path: Path
) -> None:
    """The debootstrap roots as they are, with no /etc/fstab line for /dev/shm. With systemd
    (``systemctl-offline``), systemd's own mount (nosuid, nodev) is judged and only noexec fails; without it
    (``base``, minbase has no init), nothing is known to mount /dev/shm: dev-shm-separate fails and the
    option checks are skipped. Either way the fix appends one line that keeps nosuid and nodev, after which
    all four pass and a second run changes nothing."""
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(variant_root(variant)), str(root)], check=True)
    expected = {
        "systemctl-offline": {
            **dict.fromkeys(DEV_SHM_CHECKS, Status.PASS),
            "mount-dev-shm-noexec": Status.FAIL,
        },
        "base": {"dev-shm-separate": Status.FAIL, **dict.fromkeys(DEV_SHM_CHECKS[1:], Status.SKIP)},
    }[variant]
    assert dev_shm_statuses(root) == expected
    was = (root / "etc/fstab").read_text()
    script = root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(root), "--checks", ",".join(DEV_SHM_CHECKS), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0 and "1 failing check(s) addressed" in made.stderr, made.stderr
    first = chroot(root, "/imagevet-harden.sh")
    assert first.returncode == 0, first.stdout + first.stderr
    assert dev_shm_statuses(root) == dict.fromkeys(DEV_SHM_CHECKS, Status.PASS)
    assert (root / "etc/fstab").read_text() == was + DEV_SHM_LINE
    settled = snapshot(root)
    second = chroot(root, "/imagevet-harden.sh")
    assert second.returncode == 0, second.stderr
    assert snapshot(root) == settled


def test_the_playbooks_form_reports_a_change_once_in_the_images_dash(loose_root: Path) -> None:
    command = tracked_command(fstab_option_command("/var/log", "noexec"))
    runs = [chroot(loose_root, "/bin/sh", "-c", command) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    assert CHANGED in runs[0].stdout and CHANGED not in runs[1].stdout


def test_a_read_only_fstab_fails_the_fix_by_name_and_stays_as_it_was(loose_root: Path) -> None:
    """The image's /etc/fstab bind-mounted read-only (a read-only layer of a build): the rename over it
    fails, the script names the fix and exits 1, and no temporary file is left beside it."""
    script = loose_root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(loose_root), "--checks", "mount-home-nodev", "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0, made.stderr
    etc = loose_root / "etc"
    mounted = f'mount --bind "{etc}" "{etc}" && mount -o remount,bind,ro "{etc}"'
    proc = subprocess.run(
        ["unshare", "--mount", "sh", "-c", f'{mounted} && chroot "{loose_root}" /imagevet-harden.sh'],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.splitlines()[-1] == "imagevet: 1 fix(es) failed: mount-home-nodev"
    assert (etc / "fstab").read_text() == LOOSE_FSTAB and not list(etc.glob("fstab.imagevet-*"))
