"""System checks: mandatory access control and the checks that belong to no other subject."""

from __future__ import annotations

from imagevet.model import Status
from tests.checks.support import audit


def test_selinux_enforcing_passes_on_rhel(copy_of) -> None:  # type: ignore[no-untyped-def]
    root = copy_of("weak-rocky9")
    (root / "etc/selinux/config").write_text("SELINUX=enforcing\nSELINUXTYPE=targeted\n")
    assert audit(root)["mac-enforcing"] is Status.FAIL  # selinux=0 on the kernel command line
    (root / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX="console=tty0"\n')
    assert audit(root)["mac-enforcing"] is Status.PASS
