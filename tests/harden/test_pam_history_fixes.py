"""`imagevet harden` for the password-history checks, applied for real in chroot copies of debootstrap
roots: with libpam-pwquality installed (as CIS's own list asks), the image's pam-auth-update writes
pam_pwhistory after pam_pwquality with use_authtok and the re-audit passes all four; without pwquality,
pam_pwhistory is the first module and must ask for the password itself, so use_authtok stays failing
(that fix needs password-quality's); a pam_unix remember= is removed. A second run changes nothing."""

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
from tests.support.debian_root import ensure_debian_root

pytestmark = pytest.mark.real
HISTORY = [
    "password-history-enabled",
    "password-history-remember",
    "password-history-root",
    "password-history-authtok",
]
P, F = Status.PASS, Status.FAIL


def copy_of(root: Path, into: Path) -> Path:
    subprocess.run(["cp", "-a", str(root), str(into)], check=True)
    return into


def audit(root: Path, checks: list[str]) -> list[Status]:
    return [r.status for r in run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), checks).results]


def password_lines(root: Path) -> list[str]:
    text = (root / "etc/pam.d/common-password").read_text()
    return [line.split(None, 2)[-1] for line in text.splitlines() if line.startswith("password")]


def test_with_pwquality_the_fix_passes_all_four_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    root = copy_of(ensure_debian_root(("libpam-pwquality",)), tmp_path / "root")
    assert audit(root, HISTORY) == [F, F, F, F]
    first = harden(root, HISTORY)
    assert first.returncode == 0, first.stdout + first.stderr
    assert audit(root, HISTORY) == [P, P, P, P]
    lines = password_lines(root)
    assert lines[0].startswith("pam_pwquality.so") and lines[1].startswith("pam_pwhistory.so")
    assert "use_authtok" in lines[1] and "remember=24" in lines[1] and "enforce_for_root" in lines[1]
    state = snapshot(root)
    assert harden(root, HISTORY).returncode == 0
    assert snapshot(root) == state


def test_without_pwquality_pwhistory_asks_itself_and_use_authtok_stays_failing(
    debian_root: Path, tmp_path: Path
) -> None:
    root = copy_of(debian_root, tmp_path / "root")
    first = harden(root, HISTORY)
    assert first.returncode == 0, first.stdout + first.stderr
    assert audit(root, HISTORY) == [P, P, P, F]
    assert (
        password_lines(root)[0].startswith("pam_pwhistory.so")
        and "use_authtok" not in password_lines(root)[0]
    )


def test_a_pam_unix_remember_is_removed(debian_root: Path, tmp_path: Path) -> None:
    root = copy_of(debian_root, tmp_path / "root")
    stack = root / "etc/pam.d/common-password"
    stack.write_text(stack.read_text().replace("pam_unix.so obscure", "pam_unix.so remember=5 obscure"))
    assert audit(root, ["password-unix-no-remember"]) == [F]
    assert harden(root, ["password-unix-no-remember"]).returncode == 0
    assert audit(root, ["password-unix-no-remember"]) == [P]
    assert "pam_unix.so obscure" in stack.read_text()


def test_a_minlen_in_pwquality_conf_itself_is_commented_out(tmp_path: Path) -> None:
    """pwquality.conf is read after pwquality.conf.d and wins (pwquality.conf(5)): with `minlen = 8` there,
    the fix's drop-in alone changed nothing, and the script still said applied."""
    root = copy_of(ensure_debian_root(("libpam-pwquality",)), tmp_path / "root")
    conf = root / "etc/security/pwquality.conf"
    conf.write_text(conf.read_text() + "minlen = 8\n")
    assert audit(root, ["password-quality"]) == [F]
    first = harden(root, ["password-quality"])
    assert first.returncode == 0, first.stdout + first.stderr
    assert audit(root, ["password-quality"]) == [P]
    assert "# minlen = 8\n" in conf.read_text()
    before_second = snapshot(root)
    second = chroot(root, "/imagevet-harden.sh")
    assert second.returncode == 0 and snapshot(root) == before_second, second.stderr
