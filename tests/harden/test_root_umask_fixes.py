"""`imagevet harden` for accounts-root-umask, applied for real in a chroot copy of the debootstrap Debian 12
root: the umasks weaker than 027 in root's .bashrc and .profile get the missing bits, a stricter one in
.bash_profile stays; the image's own bash, started as root's login shell, then has umask 0027. A second
run changes nothing. bash is started with HOME=/root, as a root login gets it: the suite's own HOME
(a fresh one under /tmp, as the newcomer check runs it) would send bash to dot files that are not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.model import Status
from tests.harden.test_harden import chroot, snapshot
from tests.harden.test_harden import harden_in_chroot as harden
from tests.harden.test_pam_history_fixes import audit, copy_of

pytestmark = pytest.mark.real
CHECK = "accounts-root-umask"


def test_root_umasks_get_the_missing_bits(debian_root: Path, tmp_path: Path) -> None:
    root = copy_of(debian_root, tmp_path / "root")
    bashrc = root / "root/.bashrc"
    bashrc.write_text(bashrc.read_text().replace("# umask 022", "umask 022"))
    profile = root / "root/.profile"
    profile.write_text(profile.read_text() + "umask 002\n")
    assert (
        chroot(root, "env", "HOME=/root", "bash", "-lic", "umask").stdout.split()[-1] == "0002"
    )  # .profile ends with it
    assert audit(root, [CHECK]) == [Status.FAIL]
    first = harden(root, [CHECK])
    assert first.returncode == 0, first.stdout + first.stderr
    assert audit(root, [CHECK]) == [Status.PASS]
    assert "umask 027" in bashrc.read_text() and "umask 027" in profile.read_text()
    assert chroot(root, "env", "HOME=/root", "bash", "-lic", "umask").stdout.split()[-1] == "0027"
    state = snapshot(root)
    assert harden(root, [CHECK]).returncode == 0
    assert snapshot(root) == state


def test_a_stricter_root_umask_is_kept(debian_root: Path, tmp_path: Path) -> None:
    root = copy_of(debian_root, tmp_path / "root")
    (root / "root/.bash_profile").write_text("umask 077\n. ~/.bashrc\n")
    bashrc = root / "root/.bashrc"
    bashrc.write_text(bashrc.read_text().replace("# umask 022", "umask 022"))
    assert harden(root, [CHECK]).returncode == 0
    assert (root / "root/.bash_profile").read_text() == "umask 077\n. ~/.bashrc\n"
    assert audit(root, [CHECK]) == [Status.PASS]
