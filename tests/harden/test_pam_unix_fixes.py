"""`imagevet harden` for the pam_unix checks, applied for real in chroot copies of the debootstrap Debian 12
root: nullok comes off every pam_unix line and off Debian's "unix" profile, so that the image's own
pam-auth-update, run again (as a package upgrade runs it), does not bring it back; a weak hash becomes
yescrypt; a stack without pam_unix gets it back from pam-auth-update. A second run changes nothing.
(password-unix-authtok's fix installs libpam-pwquality: tests/harden/test_install_fixes.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.model import Status
from tests.harden.test_harden import chroot, snapshot
from tests.harden.test_harden import harden_in_chroot as harden
from tests.harden.test_pam_history_fixes import audit, copy_of

pytestmark = pytest.mark.real
P, F = Status.PASS, Status.FAIL
PAM = Path("etc/pam.d")


def test_nullok_is_removed_and_stays_removed_after_pam_auth_update(debian_root: Path, tmp_path: Path) -> None:
    root = copy_of(debian_root, tmp_path / "root")
    assert audit(root, ["password-unix-no-nullok"]) == [F]
    first = harden(root, ["password-unix-no-nullok"])
    assert first.returncode == 0, first.stdout + first.stderr
    assert audit(root, ["password-unix-no-nullok", "password-unix-enabled"]) == [P, P]
    assert "nullok" not in (root / "usr/share/pam-configs/unix").read_text()
    assert (
        "pam_unix.so try_first_pass" not in (root / PAM / "common-auth").read_text()
    )  # Initial lines kept as such
    state = snapshot(root)
    assert harden(root, ["password-unix-no-nullok"]).returncode == 0
    assert snapshot(root) == state
    regenerated = chroot(root, "env", "DEBIAN_FRONTEND=noninteractive", "pam-auth-update", "--force")
    assert regenerated.returncode == 0, regenerated.stderr
    assert audit(root, ["password-unix-no-nullok", "password-unix-enabled"]) == [P, P]


@pytest.mark.parametrize("arguments", ["obscure md5", "obscure", "obscure sha256 yescrypt md5"])
def test_a_weak_or_missing_hash_becomes_yescrypt(debian_root: Path, tmp_path: Path, arguments: str) -> None:
    root = copy_of(debian_root, tmp_path / "root")
    stack = root / PAM / "common-password"
    stack.write_text(stack.read_text().replace("pam_unix.so obscure yescrypt", f"pam_unix.so {arguments}"))
    assert audit(root, ["password-unix-hashing"]) == [F]
    assert harden(root, ["password-unix-hashing"]).returncode == 0
    assert audit(root, ["password-unix-hashing"]) == [P]
    unix = [
        line for line in stack.read_text().splitlines() if "pam_unix.so" in line and not line.startswith("#")
    ]
    assert unix == ["password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt"], unix


def drop_session_pam_unix(root: Path) -> None:
    """common-session without its pam_unix line, as a hand edit would leave it."""
    session = root / PAM / "common-session"
    session.write_text(
        "".join(line for line in session.read_text().splitlines(True) if "pam_unix" not in line)
    )


def test_a_stack_without_pam_unix_gets_it_back(debian_root: Path, tmp_path: Path) -> None:
    root = copy_of(debian_root, tmp_path / "root")
    drop_session_pam_unix(root)
    assert audit(root, ["password-unix-enabled"]) == [F]
    first = harden(root, ["password-unix-enabled"])
    assert first.returncode == 0, first.stdout + first.stderr
    assert audit(root, ["password-unix-enabled"]) == [P]


def test_the_enabled_fix_fails_by_name_without_the_unix_profile(debian_root: Path, tmp_path: Path) -> None:
    """Without Debian's "unix" profile, pam-auth-update loops asking for a profile to select (seen here:
    it never ends, even with DEBIAN_FRONTEND=noninteractive): the fix does not run it and says so."""
    root = copy_of(debian_root, tmp_path / "root")
    (root / "usr/share/pam-configs/unix").unlink()
    drop_session_pam_unix(root)
    assert audit(root, ["password-unix-enabled"]) == [F]
    proc = harden(root, ["password-unix-enabled"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "pam-configs/unix" in proc.stderr and "still has no pam_unix" in proc.stderr
    assert "the fix for password-unix-enabled failed" in proc.stderr
