"""default-umask: login.defs and every umask the system-wide profiles run (checks/umask.py), on copies
of the hardened-debian fixture; and the profile reader (facts/shell_vars.py umask_calls) alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.shell_vars import umask_calls
from imagevet.model import Status
from tests.checks.support import statuses
from tests.facts.hostile import HOSTILE, plant

P, F, E = Status.PASS, Status.FAIL, Status.ERROR


def _judge(root: Path, login_defs: str | None, profile: str | None = None) -> Status:
    if login_defs is not None:
        (root / "etc/login.defs").write_text(login_defs)
    if profile is not None:
        (root / "etc/profile.d").mkdir(exist_ok=True)
        (root / "etc/profile.d/site.sh").write_text(profile)
    return statuses(root, ["default-umask"])["default-umask"]


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (None, P),
        ("umask 027\n", P),
        ("umask 077\n", P),
        ("umask 0027\n", P),
        ("umask 022\n", F),
        ("umask 22\n", F),  # 022
        ("umask 007\n", F),  # others may not read, but the group may write
        ("if [ $UID -gt 199 ]; then\n  umask 002\nfi\n", F),  # under a condition: some logins get it
        ("true && umask 022\n", F),
        ("umask -S\numask\n", P),  # print only
        ("cat <<EOF\numask 022\nEOF\n", P),  # text, not run
        ("# umask 022\n", P),
        ('eval "umask 022"\n', E),  # run by eval from a quoted word: not read, never passed
        ('umask "$SITE"\n', E),
        ("umask u=rwx,g=rx,o=\n", E),  # symbolic: not read, never guessed
        ("{ umask 022; }\n", F),
        ("if umask 022; then :; fi\n", F),
        ("f() { umask 022; }; f\n", F),
        ('X="a\\\\"; umask 022; Y="b"\n', F),  # an escaped backslash, then the closing quote
        ("builtin umask 022\n", E),  # run, in a form not read: undecided, never passed
        ("command umask 022\n", E),
        ("eval umask 022\n", E),
        ("FOO=1 umask 022\n", E),
        ("2>/dev/null umask 022\n", E),
        ("\\umask 022\n", E),
        ("'umask' 022\n", E),
        ("umask -S 022\n", E),
        ("umask -- 002\n", E),
        ("umask 022>/dev/null\n", E),
        ("echo umask 022\n", P),  # says it, does not run it
    ],
)
def test_profile_umasks(debian: Path, profile: str | None, expected: Status) -> None:
    assert _judge(debian, "UMASK 027\n", profile) is expected


def test_login_defs_still_decides(debian: Path) -> None:
    assert _judge(debian, "UMASK 022\n") is F
    assert _judge(debian, "UMASK 077\n", "umask 027\n") is P
    assert _judge(debian, "PASS_MAX_DAYS 90\n", "umask 027\n") is F  # no UMASK at all


def test_an_unreadable_profile_is_an_error(debian: Path) -> None:
    (debian / "etc/profile.d").mkdir(exist_ok=True)
    (debian / "etc/profile.d/bin.sh").write_bytes(b"umask 027\n\0")
    assert _judge(debian, "UMASK 027\n") is E


def test_umask_calls_read_each_mode_with_its_place() -> None:
    calls = umask_calls("umask 022; x=1\nif true; then umask 077; fi\numask $M\n", "/etc/profile")
    assert [(c.mode, c.line, c.conditional) for c in calls] == [
        (0o022, 1, False),
        (0o077, 2, True),
        (None, 3, False),
    ]
    assert calls[2].written == "umask $M"


def _root_umask(root: Path, files: dict[str, str]) -> Status:
    (root / "root").mkdir(exist_ok=True)
    for name, text in files.items():
        (root / "root" / name).write_text(text)
    return statuses(root, ["accounts-root-umask"])["accounts-root-umask"]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({}, P),  # none: the system default applies, default-umask's to judge
        ({".bashrc": "# umask 022\n"}, P),
        ({".bashrc": "umask 027\n"}, P),
        ({".bash_profile": "umask 077\n", ".bashrc": "umask 027\n"}, P),
        ({".bashrc": "umask 022\n"}, F),
        ({".bash_profile": "umask 0022\n"}, F),
        ({".profile": "umask 002\n"}, F),  # Debian's root logs in through .profile (no .bash_profile)
        ({".bash_login": "umask 022\n"}, F),
        ({".bashrc": "umask u=rwx,g=rx,o=\n"}, E),  # symbolic: not judged, never passed
        ({".bashrc": 'eval "umask 022"\n'}, E),
        ({".cshrc": "umask 022\n"}, P),  # not a file bash reads
    ],
)
def test_root_umask(debian: Path, files: dict[str, str], expected: Status) -> None:
    assert _root_umask(debian, files) is expected


@pytest.mark.parametrize("kind", HOSTILE)
def test_an_unreadable_root_startup_file_is_an_error(debian: Path, kind: str) -> None:
    plant(debian, "/root/.bashrc", kind)
    found = _root_umask(debian, {})
    assert found is E if kind != "link-outside" else found in (E, P)  # re-rooted: the image's own file
