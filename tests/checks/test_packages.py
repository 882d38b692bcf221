"""Package checks (value rows of packages.yaml): unwanted packages absent, time sync and auditd present."""

from __future__ import annotations

from pathlib import Path

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.registry import CHECKS
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.checks.support import AS_OF, statuses


def test_packages_sudo_and_tmp_on_one_image(debian: Path) -> None:
    checks = ["packages-insecure-absent", "time-sync-installed", "sudo-use-pty", "tmp-separate"]
    got = statuses(debian, checks)
    assert got["packages-insecure-absent"] is Status.PASS  # telnet is only config-files: not installed
    assert got["time-sync-installed"] is Status.FAIL
    assert got["sudo-use-pty"] is Status.SKIP  # no /etc/sudoers in the fixture
    status = debian / "var/lib/dpkg/status"
    # telnet goes from config-files to installed (a second telnet stanza is a database dpkg refuses).
    text = status.read_text().replace(
        "Package: telnet\nStatus: deinstall ok config-files", "Package: telnet\nStatus: install ok installed"
    )
    status.write_text(
        text + "\nPackage: chrony\nStatus: install ok installed\nArchitecture: amd64\nVersion: 4.3-2\n"
    )
    (debian / "etc/sudoers").write_text("Defaults\tuse_pty\nroot ALL=(ALL:ALL) ALL\n")
    (debian / "etc/fstab").write_text("tmpfs /tmp tmpfs nodev,nosuid,noexec 0 0\n")
    got = statuses(debian, checks)
    assert got == {
        "packages-insecure-absent": Status.FAIL,
        "time-sync-installed": Status.PASS,
        "sudo-use-pty": Status.PASS,
        "tmp-separate": Status.PASS,
    }


def test_a_refused_package_database_never_reads_as_not_installed(copy_of) -> None:  # type: ignore[no-untyped-def]
    """dpkg refuses a status file with a line that is not a field; so does imagevet, and every check that
    asks "is X installed?" is then undecided, never a failure for a package that may well be there."""
    root = copy_of("hardened-debian")
    with (root / "var/lib/dpkg/status").open("a") as status:
        status.write("Package: broken\nthis line is not a field\n")
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), list(CHECKS))
    statuses = {r.check: r for r in report.results}
    for check in ("updates-automatic", "cloudinit-version", "packages-insecure-absent", "auditd-installed"):
        assert statuses[check].status is Status.ERROR, check
        assert "dpkg refuses this database" in statuses[check].evidence[0].detail
    assert statuses["mac-enforcing"].status is Status.PASS  # decided by apparmor_parser on disk
