"""The pwquality value rows (checks/config_values.py): difok, maxrepeat, maxsequence, dictcheck, enforcing
and enforce_for_root, each as pam_pwquality uses it on each password-stack line: its own argument, else
pwquality.conf (read last) and pwquality.conf.d, else libpwquality 1.4.5's documented default. On copies of
the hardened-debian fixture, which has no PAM of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.model import Status
from tests.checks.support import statuses

P, F, S = Status.PASS, Status.FAIL, Status.SKIP
CHECKS = [
    "password-difok",
    "password-maxrepeat",
    "password-maxsequence",
    "password-dictcheck",
    "password-enforcing",
    "password-enforce-root",
]
LINE = "password requisite pam_pwquality.so retry=3\npassword [success=1 default=ignore] pam_unix.so\n"
CIS = "difok = 2\nmaxrepeat = 3\nmaxsequence = 3\ndictcheck = 1\nenforcing = 1\nenforce_for_root\n"


def _judge(
    root: Path, stack: str | None = LINE, conf: str | None = None, drop_in: str | None = None
) -> list[Status]:
    if stack is not None:
        (root / "etc/pam.d").mkdir(exist_ok=True)
        (root / "etc/pam.d/common-password").write_text(stack)
    security = root / "etc/security"
    (security / "pwquality.conf.d").mkdir(parents=True, exist_ok=True)
    if conf is not None:
        (security / "pwquality.conf").write_text(conf)
    if drop_in is not None:
        (security / "pwquality.conf.d/50-site.conf").write_text(drop_in)
    found = statuses(root, CHECKS)
    return [found[c] for c in CHECKS]


def test_no_pam_is_a_skip(debian: Path) -> None:
    assert _judge(debian, stack=None) == [S] * 6


def test_no_pam_pwquality_in_the_stack_fails_every_row(debian: Path) -> None:
    assert _judge(debian, "password [success=1 default=ignore] pam_unix.so yescrypt\n") == [F] * 6


def test_the_library_defaults(debian: Path) -> None:
    """difok 1, maxrepeat and maxsequence 0 (off), dictcheck and enforcing 1, enforce_for_root off."""
    assert _judge(debian) == [F, F, F, P, P, F]


def test_the_cis_values_pass(debian: Path) -> None:
    assert _judge(debian, conf=CIS) == [P] * 6


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        ("difok = 1\n", [F, F, F, P, P, F]),
        ("maxrepeat = 4\nmaxsequence = 0\n", [F, F, F, P, P, F]),
        ("maxrepeat = 1\nmaxsequence = 2\n", [F, P, P, P, P, F]),
        ("dictcheck = 0\nenforcing = 0\n", [F, F, F, F, F, F]),
        ("dictcheck = yes\n", [F, F, F, P, P, F]),  # refused: libpwquality stops there, dictcheck stays 1
        ("Dictcheck = 0\nENFORCING 0\n", [F, F, F, F, F, F]),  # names in any case, `=` optional
        ("minlenn = 14\ndifok = 5\nenforce_for_root\n", [F, F, F, P, P, F]),  # stops at the unknown name
        ("enforce_for_root = 1\n", [F, F, F, P, P, P]),  # named, with a value or not
    ],
)
def test_values_in_pwquality_conf(debian: Path, conf: str, expected: list[Status]) -> None:
    assert _judge(debian, conf=conf) == expected


def test_pwquality_conf_is_read_after_its_drop_ins(debian: Path) -> None:
    assert _judge(debian, conf="difok = 1\n", drop_in="difok = 5\n")[0] is F
    assert _judge(debian, conf="# difok = 1\n", drop_in="difok = 5\n")[0] is P


def test_the_module_line_wins_over_the_files(debian: Path) -> None:
    stack = "password requisite pam_pwquality.so retry=3 difok=1 enforce_for_root\n"
    assert _judge(debian, stack, conf=CIS) == [F, P, P, P, P, P]


def test_argument_names_are_matched_in_any_case(debian: Path) -> None:
    stack = "password requisite pam_pwquality.so retry=3 DICTCHECK=0 Difok=4\n"
    assert _judge(debian, stack, conf=CIS) == [P, P, P, F, P, P]


def test_a_file_that_cannot_be_read_is_an_error(debian: Path) -> None:
    (debian / "etc/security/pwquality.conf.d").mkdir(parents=True)
    (debian / "etc/security/pwquality.conf.d/big.conf").write_text("#" * (5 * 1024 * 1024))
    assert _judge(debian, conf=CIS) == [Status.ERROR] * 6


def test_latin1_bytes_in_a_comment_are_read_as_the_library_reads_them(debian: Path) -> None:
    (debian / "etc/security").mkdir(parents=True)
    (debian / "etc/security/pwquality.conf").write_bytes(b"# caf\xe9\ndictcheck = 0\n")
    assert _judge(debian)[3] is F


def test_every_pam_pwquality_line_is_judged(debian: Path) -> None:
    """Red Hat's system-auth and password-auth each call it; a weaker argument on one fails."""
    (debian / "etc/pam.d").mkdir()
    (debian / "etc/pam.d/system-auth").write_text("password requisite pam_pwquality.so difok=3\n")
    (debian / "etc/pam.d/password-auth").write_text("password requisite pam_pwquality.so\n")
    assert _judge(debian, stack=None, conf="difok = 1\n")[0] is F
    assert _judge(debian, stack=None, conf="difok = 4\n")[0] is P
