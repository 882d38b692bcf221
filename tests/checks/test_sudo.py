"""sudo checks: Defaults use_pty and logfile, from /etc/sudoers and /etc/sudoers.d."""

from __future__ import annotations

from pathlib import Path

from imagevet.model import Status
from tests.checks.support import statuses

CHECKS = ["sudo-use-pty", "sudo-logfile"]


def test_no_sudo_skips(debian: Path) -> None:
    assert set(statuses(debian, CHECKS).values()) == {Status.SKIP}  # no /etc/sudoers in the fixture


def test_defaults_in_the_main_file_and_a_drop_in(debian: Path) -> None:
    (debian / "etc/sudoers").write_text(
        "Defaults\tuse_pty\nroot ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n"
    )
    assert statuses(debian, CHECKS) == {"sudo-use-pty": Status.PASS, "sudo-logfile": Status.FAIL}
    (debian / "etc/sudoers.d").mkdir()
    (debian / "etc/sudoers.d/60-log").write_text('Defaults logfile="/var/log/sudo.log"\n')
    assert set(statuses(debian, CHECKS).values()) == {Status.PASS}


def test_negated_use_pty_fails_and_an_unreadable_sudoers_is_an_error(debian: Path) -> None:
    (debian / "etc/sudoers").write_text("Defaults !use_pty\n")
    assert statuses(debian, CHECKS)["sudo-use-pty"] is Status.FAIL
    (debian / "etc/sudoers").write_bytes(b"\x00\xff binary")
    assert set(statuses(debian, CHECKS).values()) == {Status.ERROR}
