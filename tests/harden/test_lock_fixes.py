"""`imagevet harden` for accounts-no-shell-locked, applied for real in a chroot copy of the debootstrap
Debian 12 root: an account with nologin and a usable password, one with /bin/false and an empty password
and one with no shadow entry are locked with the image's own usermod; a login account (bash, listed) and
root are left as they were. A second run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.model import Status
from tests.harden.test_harden import chroot, snapshot
from tests.harden.test_harden import harden_in_chroot as harden
from tests.harden.test_pam_history_fixes import audit, copy_of

pytestmark = pytest.mark.real
CHECK = "accounts-no-shell-locked"
HASH = "$y$j9T$abcdefghijklmnop$0123456789012345678901234567890123456789012"


def test_accounts_without_a_valid_shell_are_locked_and_no_other(debian_root: Path, tmp_path: Path) -> None:
    root = copy_of(debian_root, tmp_path / "root")
    with (root / "etc/passwd").open("a") as passwd:
        passwd.write("svc:x:990:990::/var/lib/svc:/usr/sbin/nologin\nold:x:991:991::/:/bin/false\n")
        passwd.write("noshadow:x:992:992::/:/usr/sbin/nologin\nbob:x:1000:1000::/home/bob:/bin/bash\n")
    with (root / "etc/shadow").open("a") as shadow:
        shadow.write(
            f"svc:{HASH}:20000:0:99999:7:::\nold::20000:0:99999:7:::\nbob:{HASH}:20000:0:99999:7:::\n"
        )
    assert audit(root, [CHECK]) == [Status.FAIL]
    first = harden(root, [CHECK])
    assert first.returncode == 0, first.stdout + first.stderr
    assert audit(root, [CHECK]) == [Status.PASS]
    states = {
        name: chroot(root, "passwd", "-S", name).stdout.split()[1] for name in ("svc", "old", "bob", "root")
    }
    assert states == {"svc": "L", "old": "L", "bob": "P", "root": "L"}, states
    assert f"bob:{HASH}:" in (root / "etc/shadow").read_text()
    state = snapshot(root)
    assert harden(root, [CHECK]).returncode == 0
    assert snapshot(root) == state
