"""Password history in the PAM password stack: pam_pwhistory there, remember >= 24, enforce_for_root and
use_authtok on each of its lines (arguments over /etc/security/pwhistory.conf), no remember= on pam_unix."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.model import Status
from tests.checks.support import statuses
from tests.facts.hostile import HOSTILE, plant

P, F, S = Status.PASS, Status.FAIL, Status.SKIP
CHECKS = [
    "password-history-enabled",
    "password-history-remember",
    "password-history-root",
    "password-history-authtok",
    "password-unix-no-remember",
]
UNIX = "password [success=1 default=ignore] pam_unix.so obscure use_authtok try_first_pass yescrypt\n"
GOOD = "password requisite pam_pwhistory.so remember=24 enforce_for_root try_first_pass use_authtok\n"


def _stack(root: Path, text: str, conf: str | None = None) -> list[Status]:
    (root / "etc/pam.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/pam.d/common-password").write_text(text)
    if conf is not None:
        (root / "etc/security").mkdir(parents=True, exist_ok=True)
        (root / "etc/security/pwhistory.conf").write_text(conf)
    found = statuses(root, CHECKS)
    return [found[c] for c in CHECKS]


def test_no_password_stack_skips(debian: Path) -> None:
    assert set(statuses(debian, CHECKS).values()) == {S}


def test_debian_12_as_shipped_has_no_history(debian: Path) -> None:
    assert _stack(debian, UNIX) == [F, F, F, F, P]


def test_the_line_pam_auth_update_writes_from_the_fix_passes_all(debian: Path) -> None:
    assert _stack(debian, "password requisite pam_pwquality.so retry=3\n" + GOOD + UNIX) == [P] * 5


@pytest.mark.parametrize(
    ("line", "conf", "expected"),
    [
        ("pam_pwhistory.so use_authtok", None, [P, F, F, P]),  # remember 10 by default
        ("pam_pwhistory.so use_authtok", "remember = 24\nenforce_for_root\n", [P, P, P, P]),
        (
            "pam_pwhistory.so use_authtok remember=5",
            "remember = 24\nenforce_for_root\n",
            [P, F, P, P],
        ),  # line wins
        ("pam_pwhistory.so remember=24 enforce_for_root", None, [P, P, P, F]),
        ("pam_pwhistory.so remember=30", "# enforce_for_root\n", [P, P, F, F]),
        ("pam_pwhistory.so remember=many use_authtok enforce_for_root", None, [P, F, P, P]),
    ],
)
def test_arguments_and_pwhistory_conf(
    debian: Path, line: str, conf: str | None, expected: list[Status]
) -> None:
    assert _stack(debian, f"password requisite {line}\n" + UNIX, conf)[:4] == expected


def test_every_pwhistory_line_is_judged(debian: Path) -> None:
    weak = "password requisite pam_pwhistory.so remember=3 use_authtok\n"
    assert _stack(debian, GOOD + weak + UNIX)[:4] == [P, F, F, P]


def test_pam_unix_remember_fails(debian: Path) -> None:
    assert _stack(debian, GOOD + UNIX.replace("yescrypt", "yescrypt remember=5"))[4] is F


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_pwhistory_conf_counts_for_nothing(debian: Path, kind: str) -> None:
    _stack(debian, "password requisite pam_pwhistory.so use_authtok\n" + UNIX)
    plant(debian, "/etc/security/pwhistory.conf", kind)
    found = statuses(debian, CHECKS)
    assert found["password-history-remember"] is F and found["password-history-root"] is F  # the defaults
