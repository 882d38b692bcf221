"""sudo checks: Defaults use_pty, logfile, timestamp_timeout and authenticate, from /etc/sudoers and the
files it includes, in sudo's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.model import Status
from tests.checks.support import statuses

CHECKS = ["sudo-use-pty", "sudo-logfile", "sudo-reauth-timeout", "sudo-authenticate"]
P, F, E = Status.PASS, Status.FAIL, Status.ERROR


def test_no_sudo_skips(debian: Path) -> None:
    assert set(statuses(debian, CHECKS).values()) == {Status.SKIP}  # no /etc/sudoers in the fixture


def test_defaults_in_the_main_file_and_a_drop_in(debian: Path) -> None:
    (debian / "etc/sudoers").write_text(
        "Defaults\tuse_pty\nroot ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n"
    )
    assert statuses(debian, CHECKS) == {
        "sudo-use-pty": P,
        "sudo-logfile": F,
        "sudo-reauth-timeout": P,  # unset: sudo's default, 15 minutes
        "sudo-authenticate": P,
    }
    (debian / "etc/sudoers.d").mkdir()
    (debian / "etc/sudoers.d/60-log").write_text('Defaults logfile="/var/log/sudo.log"\n')
    assert set(statuses(debian, CHECKS).values()) == {Status.PASS}


def test_negated_use_pty_fails_and_an_unreadable_sudoers_is_an_error(debian: Path) -> None:
    (debian / "etc/sudoers").write_text("Defaults !use_pty\n")
    assert statuses(debian, CHECKS)["sudo-use-pty"] is Status.FAIL
    (debian / "etc/sudoers").write_bytes(b"\x00\xff binary")
    assert set(statuses(debian, CHECKS).values()) == {Status.ERROR}


def _sudoers(root: Path, main: str, **drop_ins: str) -> dict[str, Status]:
    (root / "etc/sudoers").write_text(main + "\n@includedir /etc/sudoers.d\n")
    (root / "etc/sudoers.d").mkdir(exist_ok=True)
    for name, text in drop_ins.items():
        (root / "etc/sudoers.d" / name).write_text(text)
    return statuses(root, CHECKS)


def test_a_later_setting_wins_and_a_scoped_one_that_weakens_fails(debian: Path) -> None:
    assert _sudoers(debian, "Defaults use_pty", a="Defaults !use_pty\n")["sudo-use-pty"] is F
    assert _sudoers(debian, "Defaults !use_pty", a="Defaults use_pty\n")["sudo-use-pty"] is F  # a: still off
    (debian / "etc/sudoers.d/a").unlink()
    assert _sudoers(debian, "Defaults !use_pty", b="Defaults use_pty\n")["sudo-use-pty"] is F  # off, then on
    (debian / "etc/sudoers.d/b").unlink()
    assert _sudoers(debian, "Defaults use_pty", c="Defaults:alice !use_pty\n")["sudo-use-pty"] is F
    (debian / "etc/sudoers.d/c").unlink()
    assert _sudoers(debian, "Defaults use_pty", **{"c.bak": "Defaults !use_pty\n"})["sudo-use-pty"] is P


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("timestamp_timeout=15", P),
        ("timestamp_timeout=0", P),
        ("!timestamp_timeout", P),  # 0: ask every time
        ("timestamp_timeout=14.5", P),
        ("timestamp_timeout=15.5", F),
        ("timestamp_timeout=60", F),
        ("timestamp_timeout=-1", F),  # never expires
        ("timestamp_timeout=soon", E),
        ("timestamp_timeout+=5", E),
    ],
)
def test_timestamp_timeout(debian: Path, setting: str, expected: Status) -> None:
    assert _sudoers(debian, f"Defaults {setting}")["sudo-reauth-timeout"] is expected


def test_a_scoped_long_timeout_fails_even_under_a_strict_global_one(debian: Path) -> None:
    found = _sudoers(debian, "Defaults timestamp_timeout=5", ops="Defaults:ops timestamp_timeout=120\n")
    assert found["sudo-reauth-timeout"] is F


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Defaults !authenticate", F),
        ("Defaults:deploy !authenticate", F),
        ("Defaults>root env_reset, !authenticate", F),
        ("Defaults !!authenticate", P),
        ("Defaults authenticate", P),
        ("# Defaults !authenticate", P),
        ("deploy ALL=(ALL) NOPASSWD: ALL", P),  # NOPASSWD is CIS Level 2, not this check
    ],
)
def test_authenticate(debian: Path, line: str, expected: Status) -> None:
    assert _sudoers(debian, line)["sudo-authenticate"] is expected


def test_an_unreadable_drop_in_is_an_error_for_every_sudo_check(debian: Path) -> None:
    found = _sudoers(debian, "Defaults use_pty", bad="")
    assert set(found.values()) <= {P, F}
    (debian / "etc/sudoers.d/bad").write_bytes(b"\x00\xff binary")
    assert set(statuses(debian, CHECKS).values()) == {E}
