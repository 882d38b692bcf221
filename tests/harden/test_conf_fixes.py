"""The pwquality and journald setting fixes (checks/conf_fix.py), applied for real in chroot copies of the
debootstrap root with libpam-pwquality from the archive (its pam-auth-update profile puts pam_pwquality in
common-password) and Debian 12's own journald.conf: each value goes into the main file, a drop-in that would
win is commented out, and what the fix may not edit (a pam_pwquality argument, a package's journald drop-in)
fails it by name. The re-audit decides; a second run changes nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.harden.conftest import variant_root
from tests.harden.test_harden import AS_OF, chroot, snapshot
from tests.harden.test_harden import harden_in_chroot as harden
from tests.support.debian_root import ensure_debian_root

pytestmark = pytest.mark.real

PWQUALITY = ["password-difok", "password-maxrepeat", "password-maxsequence", "password-enforce-root"]
JOURNALD = ["logging-journald-compress", "logging-journald-storage"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "root"
    subprocess.run(["cp", "-a", str(ensure_debian_root(("libpam-pwquality",))), str(copy)], check=True)
    return copy


@pytest.fixture
def systemd_copy(tmp_path: Path) -> Path:
    """A root with Debian's systemd, so its own /etc/systemd/journald.conf."""
    copy = tmp_path / "systemd-root"
    subprocess.run(["cp", "-a", str(variant_root("systemctl-offline")), str(copy)], check=True)
    return copy


def audit(root: Path, checks: list[str]) -> list[Status]:
    return [r.status for r in run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), checks).results]


def test_each_pwquality_setting_lands_in_the_main_file_and_wins_over_a_drop_in(root: Path) -> None:
    drop_ins = root / "etc/security/pwquality.conf.d"
    drop_ins.mkdir(exist_ok=True)
    (drop_ins / "99-site.conf").write_text("difok = 1\nminlen = 16\n")
    conf = root / "etc/security/pwquality.conf"
    assert audit(root, PWQUALITY) == [Status.FAIL] * len(PWQUALITY)
    proc = harden(root, PWQUALITY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert audit(root, PWQUALITY) == [Status.PASS] * len(PWQUALITY)
    assert (drop_ins / "99-site.conf").read_text() == "# difok = 1\nminlen = 16\n"
    assert conf.read_text().endswith("difok = 2\nmaxrepeat = 3\nmaxsequence = 3\nenforce_for_root\n")
    assert not list(root.glob("etc/**/*.imagevet-set"))
    before_second = snapshot(root)
    assert chroot(root, "/imagevet-harden.sh").returncode == 0 and snapshot(root) == before_second


def test_journald_settings_go_under_journal_and_win_over_a_drop_in(systemd_copy: Path) -> None:
    root = systemd_copy
    (root / "etc/systemd/journald.conf.d").mkdir(exist_ok=True)
    (root / "etc/systemd/journald.conf.d/99-site.conf").write_text("[Journal]\nStorage=volatile\n")
    journald = root / "etc/systemd/journald.conf"
    before = journald.read_text()
    assert "#Compress=yes" in before and "\n[Journal]\n" in before  # Debian 12's: the defaults commented
    assert audit(root, JOURNALD) == [Status.FAIL, Status.FAIL]
    proc = harden(root, JOURNALD)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert audit(root, JOURNALD) == [Status.PASS, Status.PASS]
    text = journald.read_text()
    assert text.startswith(before.split("[Journal]\n")[0] + "[Journal]\nStorage=persistent\nCompress=yes\n")
    assert "#Compress=yes" in text  # comments stay
    assert (
        root / "etc/systemd/journald.conf.d/99-site.conf"
    ).read_text() == "[Journal]\n# Storage=volatile\n"
    before_second = snapshot(root)
    assert chroot(root, "/imagevet-harden.sh").returncode == 0 and snapshot(root) == before_second


def test_an_active_line_is_changed_in_place(root: Path) -> None:
    conf = root / "etc/security/pwquality.conf"
    conf.write_text(conf.read_text() + "maxrepeat = 0\n")
    conf.chmod(0o600)
    proc = harden(root, ["password-maxrepeat"])
    assert proc.returncode == 0, proc.stderr
    active = [line for line in conf.read_text().splitlines() if line.startswith("maxrepeat")]
    assert active == ["maxrepeat = 3"]
    assert conf.stat().st_mode & 0o777 == 0o600  # the copy renamed over it keeps the mode


def test_a_missing_main_file_is_made(root: Path, systemd_copy: Path) -> None:
    (root / "etc/security/pwquality.conf").unlink()
    (systemd_copy / "etc/systemd/journald.conf").unlink()
    assert harden(root, ["password-difok"]).returncode == 0
    assert harden(systemd_copy, ["logging-journald-storage"]).returncode == 0
    assert (root / "etc/security/pwquality.conf").read_text() == "difok = 2\n"
    assert (systemd_copy / "etc/systemd/journald.conf").read_text() == "[Journal]\nStorage=persistent\n"
    assert audit(root, ["password-difok"]) == [Status.PASS]
    assert audit(systemd_copy, ["logging-journald-storage"]) == [Status.PASS]


def test_a_pam_argument_and_a_package_drop_in_fail_the_fix_by_name(root: Path, systemd_copy: Path) -> None:
    stack = root / "etc/pam.d/common-password"
    stack.write_text(
        stack.read_text().replace("pam_pwquality.so retry=3", "pam_pwquality.so retry=3 Difok=1")
    )
    conf = root / "etc/security/pwquality.conf"
    conf.write_text(conf.read_text() + "difok = 8\n")  # stricter, and losing to the line: left as it is
    before = conf.read_text()
    vendor = systemd_copy / "usr/lib/systemd/journald.conf.d"
    vendor.mkdir(parents=True, exist_ok=True)
    (vendor / "90-vendor.conf").write_text("[Journal]\nStorage=volatile\n")
    pwquality, journald = harden(root, ["password-difok"]), harden(systemd_copy, ["logging-journald-storage"])
    assert pwquality.returncode == 1 and journald.returncode == 1
    assert "common-password gives pam_pwquality difok on its line" in pwquality.stderr
    assert "the fix for password-difok failed" in pwquality.stderr
    assert "90-vendor.conf sets Storage after journald.conf, and its package owns it" in journald.stderr
    assert "the fix for logging-journald-storage failed" in journald.stderr
    assert audit(root, ["password-difok"]) == [Status.FAIL]
    assert audit(systemd_copy, ["logging-journald-storage"]) == [Status.FAIL]
    assert conf.read_text() == before


def test_forward_to_syslog_is_turned_off_in_the_main_file(systemd_copy: Path) -> None:
    """Debian 12's journald.conf has the key commented out (journald's default, which CIS asks set)."""
    check = ["logging-journald-no-forward"]
    assert audit(systemd_copy, check) == [Status.FAIL]
    proc = harden(systemd_copy, check)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert audit(systemd_copy, check) == [Status.PASS]
    assert "\nForwardToSyslog=no\n" in (systemd_copy / "etc/systemd/journald.conf").read_text()
    settled = snapshot(systemd_copy)
    assert chroot(systemd_copy, "/imagevet-harden.sh").returncode == 0 and snapshot(systemd_copy) == settled


def test_a_vendor_main_file_is_copied_before_the_edit(systemd_copy: Path) -> None:
    """systemd 256 and later keep the defaults in /usr/lib/systemd/journald.conf; an /etc file made with
    one key would hide its other settings (found by the red-team: Compress went from pass to fail)."""
    (systemd_copy / "etc/systemd/journald.conf").unlink()
    vendor = systemd_copy / "usr/lib/systemd/journald.conf"
    vendor.write_text("[Journal]\nCompress=yes\nSystemMaxUse=200M\n")
    assert audit(systemd_copy, JOURNALD) == [Status.PASS, Status.FAIL]
    assert harden(systemd_copy, ["logging-journald-storage"]).returncode == 0
    text = (systemd_copy / "etc/systemd/journald.conf").read_text()
    assert text == "[Journal]\nStorage=persistent\nCompress=yes\nSystemMaxUse=200M\n"
    assert audit(systemd_copy, JOURNALD) == [Status.PASS, Status.PASS]


def test_links_are_followed_and_untouched_files_keep_their_inode(systemd_copy: Path) -> None:
    etc = systemd_copy / "etc/systemd"
    (etc / "journald.conf.d").mkdir(exist_ok=True)
    (etc / "site").mkdir()
    (etc / "site/size.conf").write_text("[Journal]\nSystemMaxUse=1G\n")
    (etc / "site/storage.conf").write_text("[Journal]\nStorage=volatile\n")
    (etc / "journald.conf.d/20-size.conf").symlink_to("../site/size.conf")
    (etc / "journald.conf.d/30-storage.conf").symlink_to("../site/storage.conf")
    size_inode = (etc / "site/size.conf").stat().st_ino
    assert harden(systemd_copy, ["logging-journald-storage"]).returncode == 0
    links = [etc / "journald.conf.d/20-size.conf", etc / "journald.conf.d/30-storage.conf"]
    assert all(link.is_symlink() for link in links)
    assert (etc / "site/storage.conf").read_text() == "[Journal]\n# Storage=volatile\n"
    assert (etc / "site/size.conf").stat().st_ino == size_inode  # no key there: not rewritten
    assert audit(systemd_copy, ["logging-journald-storage"]) == [Status.PASS]
