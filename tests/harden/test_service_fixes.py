"""`imagevet harden` for the service checks (checks/services.yaml), applied for real in a chroot copy of a
debootstrap root: with systemd's systemctl, which works on the unit files only there (no running systemd),
and without systemctl, where the script's offline helper makes the same links (harden/offline.py). The
units are Debian 12's own files (the fixture overlays' copies, tests/fixtures/cases/*/HOW.md), left as a
careless build leaves them: listeners enabled, daemons installed but disabled or masked. Every service
check then passes on the re-audit, systemctl --root agrees, and a second run changes nothing. cron and
chrony, whose fixes install the package, are proven in test_install_fixes.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.checks.cases import OVERLAYS
from tests.harden.conftest import variant_root
from tests.harden.test_harden import AS_OF, chroot, snapshot
from tests.support.cli import run_imagevet

pytestmark = pytest.mark.real

CHECKS = [
    "service-journal-remote-disabled",
    "service-bluetooth-disabled",
    "service-rsyslog-enabled",
    "service-timesyncd-enabled",
    "service-journal-upload-enabled",
]
UNITS = {  # unit file -> the overlay holding Debian 12's copy
    "systemd-journal-remote.socket": "cis-fail",
    "systemd-journal-remote.service": "cis-fail",
    "bluetooth.service": "cis-fail",
    "rsyslog.service": "services-off",
    "systemd-timesyncd.service": "services-off",
    "systemd-journal-upload.service": "services-off",
}
LINKS = {  # what a careless build leaves: the listeners enabled, timesyncd masked
    "sockets.target.wants/systemd-journal-remote.socket": "/lib/systemd/system/systemd-journal-remote.socket",
    "bluetooth.target.wants/bluetooth.service": "/lib/systemd/system/bluetooth.service",
    "systemd-timesyncd.service": "/dev/null",
}


ORACLE = {
    "bluetooth.service": "masked",
    "systemd-journal-remote.socket": "masked",
    "rsyslog.service": "enabled",
    "systemd-timesyncd.service": "enabled",
    "systemd-journal-upload.service": "enabled",
}


def loosened(variant: str, into: Path) -> Path:
    root = into / "root"
    subprocess.run(["cp", "-a", str(variant_root(variant)), str(root)], check=True)
    units = root / "usr/lib/systemd/system"
    units.mkdir(parents=True, exist_ok=True)
    for name, overlay in UNITS.items():
        shutil.copy(OVERLAYS / overlay / "usr/lib/systemd/system" / name, units / name)
    etc = root / "etc/systemd/system"
    for name, target in LINKS.items():
        (etc / name).parent.mkdir(parents=True, exist_ok=True)
        (etc / name).symlink_to(target)
    if variant == "systemctl-offline":  # journald masked too (the base root has no systemd to unmask)
        (etc / "systemd-journald.service").symlink_to("/dev/null")
    return root


def statuses(root: Path, checks: list[str]) -> dict[str, Status]:
    return {
        r.check: r.status for r in run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), checks).results
    }


@pytest.mark.parametrize("variant", ["systemctl-offline", "base"])
def test_the_script_starts_and_stops_what_cis_asks_and_a_second_run_changes_nothing(
    variant: str, tmp_path: Path
) -> None:
    root = loosened(variant, tmp_path)
    checks = [*CHECKS, "service-journald-enabled"] if variant == "systemctl-offline" else CHECKS
    assert statuses(root, checks) == dict.fromkeys(checks, Status.FAIL)

    script = root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(root), "--checks", ",".join(checks), "--as-of", "2026-11-28",
                        "-o", str(script))  # fmt: skip
    assert made.returncode == 0 and f"{len(checks)} failing check(s) addressed" in made.stderr, made.stderr
    first = chroot(root, "/imagevet-harden.sh")
    assert first.returncode == 0, first.stdout + first.stderr
    assert statuses(root, checks) == dict.fromkeys(checks, Status.PASS)
    for unit, word in ORACLE.items():  # systemctl reads the result as imagevet does
        found = subprocess.run(
            ["systemctl", f"--root={root}", "is-enabled", unit], capture_output=True, text=True
        )
        assert found.stdout.strip() == word, (unit, found.stdout, found.stderr)

    settled = snapshot(root)
    second = chroot(root, "/imagevet-harden.sh")
    assert second.returncode == 0, second.stderr
    assert snapshot(root) == settled


@pytest.mark.parametrize("variant", ["systemctl-offline", "base"])
def test_a_unit_masked_by_an_empty_file_is_unmasked_as_systemctl_unmasks_it(
    variant: str, tmp_path: Path
) -> None:
    """systemd also masks with an empty unit file of the name in /etc/systemd/system; systemctl unmask
    removes it as it removes a link to /dev/null, and the script's offline helper does the same."""
    root = loosened(variant, tmp_path)
    empty = root / "etc/systemd/system/systemd-journal-upload.service"
    empty.write_bytes(b"")
    check = "service-journal-upload-enabled"
    assert statuses(root, [check]) == {check: Status.FAIL}
    script = root / "imagevet-harden.sh"
    made = run_imagevet("harden", str(root), "--checks", check, "--as-of", "2026-11-28", "-o", str(script))
    assert made.returncode == 0, made.stderr
    run = chroot(root, "/imagevet-harden.sh")
    assert run.returncode == 0, run.stdout + run.stderr
    assert not empty.exists() and statuses(root, [check]) == {check: Status.PASS}
    found = subprocess.run(["systemctl", f"--root={root}", "is-enabled", "systemd-journal-upload.service"],
                           capture_output=True, text=True)  # fmt: skip
    assert found.stdout.strip() == "enabled", found.stderr
