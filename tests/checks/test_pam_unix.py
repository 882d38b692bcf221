"""pam_unix in the four PAM stacks (password-unix-enabled), without nullok on any of its lines, and on its
password lines a strong hash named (the last hashing argument wins) and use_authtok. Debian's common-*
files and Red Hat's system-auth/password-auth pair; an unreadable stack file is an error, never a pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.model import Status
from tests.checks.support import statuses
from tests.facts.hostile import HOSTILE, plant

P, F, S, E = Status.PASS, Status.FAIL, Status.SKIP, Status.ERROR
CHECKS = [
    "password-unix-enabled",
    "password-unix-no-nullok",
    "password-unix-hashing",
    "password-unix-authtok",
]
# Debian 12's common-* lines as pam-auth-update writes them with libpam-pwquality (debootstrap root).
DEBIAN = {
    "common-auth": "auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\n",
    "common-account": "account [success=1 new_authtok_reqd=done default=ignore] pam_unix.so\n",
    "common-password": "password requisite pam_pwquality.so retry=3\n"
    "password [success=1 default=ignore] pam_unix.so obscure use_authtok try_first_pass yescrypt\n",
    "common-session": "session required pam_unix.so\n",
}
# authselect's sssd profile on RHEL 9 (the lines pam_unix is on), nullok included (no without-nullok).
RED_HAT = (
    "auth sufficient pam_unix.so nullok\naccount required pam_unix.so\n"
    "password requisite pam_pwquality.so local_users_only\n"
    "password sufficient pam_unix.so sha512 shadow nullok use_authtok\nsession required pam_unix.so\n"
)


def _judge(root: Path, files: dict[str, str]) -> list[Status]:
    (root / "etc/pam.d").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / "etc/pam.d" / name).write_text(text)
    found = statuses(root, CHECKS)
    return [found[c] for c in CHECKS]


def test_no_stack_skips(debian: Path) -> None:
    assert set(statuses(debian, CHECKS).values()) == {S}


def test_debian_12_as_shipped_has_nullok_only(debian: Path) -> None:
    assert _judge(debian, DEBIAN) == [P, F, P, P]


def test_without_nullok_debian_passes_all(debian: Path) -> None:
    files = {**DEBIAN, "common-auth": DEBIAN["common-auth"].replace(" nullok", "")}
    assert _judge(debian, files) == [P, P, P, P]


def test_red_hat_pair_is_judged_line_by_line(debian: Path) -> None:
    assert _judge(debian, {"system-auth": RED_HAT, "password-auth": RED_HAT}) == [P, F, P, P]
    clean = RED_HAT.replace(" nullok", "")
    assert _judge(debian, {"system-auth": clean, "password-auth": clean}) == [P] * 4
    # one of the two files is enough to fail each
    weak = clean.replace("sha512", "md5").replace(" use_authtok", "")
    assert _judge(debian, {"system-auth": clean, "password-auth": weak}) == [P, P, F, F]


@pytest.mark.parametrize(
    ("arguments", "verdict"),
    [
        ("obscure yescrypt", P),
        ("sha512 shadow", P),
        ("md5 shadow", F),
        ("sha256", F),
        ("obscure", F),  # left to login.defs ENCRYPT_METHOD: CIS asks for the argument
        ("md5 yescrypt", P),  # the last one wins
        ("yescrypt md5", F),
        ("gost_yescrypt", F),
        ("yescrypt=1", F),  # not a hashing argument pam_unix knows
    ],
)
def test_the_hash_pam_unix_uses(debian: Path, arguments: str, verdict: Status) -> None:
    files = {**DEBIAN, "common-password": f"password required pam_unix.so use_authtok {arguments}\n"}
    assert _judge(debian, files)[2] is verdict


def test_a_stack_without_pam_unix_fails_enabled_only(debian: Path) -> None:
    files = {**DEBIAN, "common-session": "session required pam_permit.so\n"}
    assert _judge(debian, files) == [F, F, P, P]
    (debian / "etc/pam.d/common-account").unlink()  # a missing stack file is a stack without pam_unix too
    assert _judge(debian, {"common-session": DEBIAN["common-session"]})[0] is F


def test_no_pam_unix_password_line_fails_the_password_checks(debian: Path) -> None:
    files = {**DEBIAN, "common-password": "password required pam_permit.so\n"}
    assert _judge(debian, files) == [F, F, F, F]


def test_nullok_on_any_kind_of_line_fails(debian: Path) -> None:
    files = {**DEBIAN, "common-auth": "auth required pam_unix.so\n"}
    files["common-password"] = files["common-password"].replace("obscure", "nullok obscure")
    assert _judge(debian, files)[1] is F


@pytest.mark.parametrize("kind", HOSTILE)
def test_an_unreadable_stack_is_an_error_for_all(debian: Path, kind: str) -> None:
    _judge(debian, DEBIAN)
    plant(debian, "/etc/pam.d/common-session", kind)
    assert set(statuses(debian, CHECKS).values()) == {E}  # a link re-rooted to nothing: dangling, an error
