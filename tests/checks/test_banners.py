"""banner-motd, banner-issue and banner-issue-net (checks/banners.py) on copies of the hardened-debian
fixture (Debian 12's os-release, no banners of its own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.model import Status
from tests.checks.support import statuses

P, F, E, S = Status.PASS, Status.FAIL, Status.ERROR, Status.SKIP
CHECKS = ["banner-motd", "banner-issue", "banner-issue-net"]
WARNING = "Authorized users only. All activity may be monitored and reported.\n"


def _judge(root: Path, text: str | bytes | None) -> list[Status]:
    for name in ("motd", "issue", "issue.net"):
        path = root / "etc" / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        elif text is not None:
            path.write_text(text)
    found = statuses(root, CHECKS)
    return [found[c] for c in CHECKS]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (WARNING, [P, P, P]),
        ("Property of Example Corp.\nUnauthorised access is prohibited.\n", [P, P, P]),
        ("Debian GNU/Linux 12 \\n \\l\n", [F, F, F]),  # Debian 12's /etc/issue: the name, hostname and tty
        ("Welcome to \\s \\r\n", [F, F, F]),  # agetty: OS name and release
        ("Kernel \\v on \\m\n", [F, F, F]),
        ("Authorised users only on this DEBIAN host\n", [F, F, F]),  # the os-release ID, in any case
        (
            "Node \\n, terminal \\l, \\d \\t\n",
            [P, P, P],
        ),  # hostname, tty, date and time say nothing of the OS
        ("", [S, F, F]),  # an empty motd shows nothing at all; an empty issue warns nobody
        ("  \n\n", [S, F, F]),
        (None, [S, F, F]),  # no files at all
        (b"Acc\xe8s r\xe9serv\xe9 au personnel autoris\xe9\n", [P, P, P]),  # Latin-1 is still text
        ("x" * (64 * 1024 + 1), [E, E, E]),  # too large to be a banner: not judged
    ],
)
def test_banner_text(debian: Path, text: str | bytes | None, expected: list[Status]) -> None:
    assert _judge(debian, text) == expected


def test_without_os_release_only_the_escapes_decide(debian: Path) -> None:
    (debian / "etc/os-release").unlink()
    (debian / "usr/lib/os-release").unlink(missing_ok=True)
    assert _judge(debian, "Welcome to \\s\n") == [F, F, F]
    assert _judge(debian, WARNING) == [E, E, E]  # the name to look for is unknown
