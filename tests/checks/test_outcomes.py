"""Every check, on real fixture trees, for each outcome it can have (pass, fail, skip, error)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from imagevet.audit import run_audit, select_checks
from imagevet.checks.base import CheckOptions
from imagevet.checks.metadata import builtin_metadata
from imagevet.checks.registry import CHECKS
from imagevet.errors import CheckSelectionError
from imagevet.model import Report, Status
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES

AS_OF = dt.date(2026, 11, 28)
ROOTFS = FIXTURES / "rootfs"


def audit(root: Path, as_of: dt.date = AS_OF, years: float = 3.0) -> dict[str, Status]:
    report = run_audit(RootfsTarget(str(root)), CheckOptions(as_of, years), select_checks(None))
    return {r.check: r.status for r in report.results}


def full(root: Path, check: str) -> Report:
    return run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), [check])


def test_registry_and_metadata_agree() -> None:
    assert set(CHECKS) == set(builtin_metadata())
    assert len(CHECKS) >= 16


def test_hardened_debian_passes_everything_but_the_window() -> None:
    statuses = audit(ROOTFS / "hardened-debian")
    assert {c for c, s in statuses.items() if s is not Status.PASS} == {
        "os-support-window",
        "updates-pending-security",
        "container-user",
        "source-official",
    }
    assert statuses["source-official"] is Status.SKIP  # no --image-id given
    assert statuses["updates-pending-security"] is Status.ERROR  # no advisory database given: undecided
    assert statuses["container-user"] is Status.SKIP  # not a container image
    assert audit(ROOTFS / "hardened-debian", years=1.5)["os-support-window"] is Status.PASS


def test_weak_rocky_fails_where_it_is_weak() -> None:
    assert audit(ROOTFS / "weak-rocky9") == {
        "source-official": Status.SKIP,
        "ssh-password-auth": Status.FAIL,
        "ssh-root-login": Status.FAIL,
        "ssh-empty-passwords": Status.PASS,
        "accounts-empty-password": Status.FAIL,
        "accounts-default-password": Status.PASS,
        "accounts-root-locked": Status.PASS,
        "mac-enforcing": Status.FAIL,
        "updates-automatic": Status.FAIL,
        "cloudinit-version": Status.FAIL,
        "updates-pending-security": Status.ERROR,
        "sysctl-rp-filter": Status.FAIL,
        "sysctl-swappiness": Status.FAIL,
        "container-user": Status.SKIP,
        "os-lts": Status.PASS,
        "os-variant": Status.PASS,  # Rocky sets no VARIANT_ID; the catalog says rocky-9 is LTS
        "os-supported": Status.PASS,
        "os-support-window": Status.PASS,
    }


def test_alpine_container_skips_and_errors() -> None:
    statuses = audit(ROOTFS / "alpine-container")
    for check in ("ssh-password-auth", "ssh-root-login", "ssh-empty-passwords"):
        assert statuses[check] is Status.SKIP
    for check in ("updates-automatic", "os-supported"):
        assert statuses[check] is Status.ERROR
    # Not in the catalog, but Alpine's own rule decides: no LTS, at most 26 months of support (< 3 years).
    for check in ("os-lts", "os-support-window"):
        assert statuses[check] is Status.FAIL
    assert statuses["cloudinit-version"] is Status.FAIL


def test_default_passwords_fail_and_root_has_a_password() -> None:
    statuses = audit(ROOTFS / "default-passwords")
    assert statuses["accounts-default-password"] is Status.FAIL
    assert statuses["accounts-root-locked"] is Status.FAIL
    report = full(ROOTFS / "default-passwords", "accounts-default-password")
    details = " ".join(e.detail for e in report.results[0].evidence)
    assert "ubuntu" in details and "$y$" not in details  # names the account, never prints a hash


@pytest.fixture
def copy_of(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(name: str) -> Path:
        root = tmp_path / name
        shutil.copytree(ROOTFS / name, root, symlinks=True)
        return root

    return make


def test_unreadable_inputs_give_error_not_pass(copy_of) -> None:  # type: ignore[no-untyped-def]
    root = copy_of("hardened-debian")
    (root / "etc/shadow").write_bytes(b"\x00binary")
    (root / "etc/ssh/sshd_config.d/00-hardening.conf").unlink()
    (root / "etc/ssh/sshd_config.d/00-hardening.conf").symlink_to("../loop")
    (root / "etc/ssh/loop").symlink_to("sshd_config.d/00-hardening.conf")
    (root / "etc/sysctl.d/60-hardening.conf").write_text("net.ipv4.conf.all.rp_filter = strict\n")
    (root / "usr/lib/os-release").write_text("garbage\n")
    statuses = audit(root)
    for check in (
        "accounts-empty-password",
        "accounts-default-password",
        "accounts-root-locked",
        "sysctl-rp-filter",
        "os-lts",
        "os-variant",
        "os-supported",
        "os-support-window",
    ):
        assert statuses[check] is Status.ERROR, check
    # A looping link among the drop-ins matches the glob and cannot be read: sshd refuses to start.
    assert statuses["ssh-password-auth"] is Status.ERROR


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


def test_lifecycle_end_dates() -> None:
    root = ROOTFS / "hardened-debian"
    assert audit(root, as_of=dt.date(2028, 6, 30))["os-supported"] is Status.PASS
    assert audit(root, as_of=dt.date(2028, 7, 1))["os-supported"] is Status.FAIL
    assert audit(root, as_of=dt.date(2025, 6, 30))["os-support-window"] is Status.PASS


def test_selinux_enforcing_passes_on_rhel(copy_of) -> None:  # type: ignore[no-untyped-def]
    root = copy_of("weak-rocky9")
    (root / "etc/selinux/config").write_text("SELINUX=enforcing\nSELINUXTYPE=targeted\n")
    assert audit(root)["mac-enforcing"] is Status.FAIL  # selinux=0 on the kernel command line
    (root / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX="console=tty0"\n')
    assert audit(root)["mac-enforcing"] is Status.PASS


def test_select_checks() -> None:
    assert select_checks(["os-lts", "ssh-root-login"]) == ["ssh-root-login", "os-lts"]
    with pytest.raises(CheckSelectionError, match="no-such-check"):
        select_checks(["no-such-check"])


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
