"""The checklist on real fixture trees, for each outcome a check can have (pass, fail, skip, error)."""

from __future__ import annotations

import datetime as dt

from imagevet.model import Status
from tests.checks.support import ROOTFS, audit


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


def test_lifecycle_end_dates() -> None:
    root = ROOTFS / "hardened-debian"
    assert audit(root, as_of=dt.date(2028, 6, 30))["os-supported"] is Status.PASS
    assert audit(root, as_of=dt.date(2028, 7, 1))["os-supported"] is Status.FAIL
    assert audit(root, as_of=dt.date(2025, 6, 30))["os-support-window"] is Status.PASS
