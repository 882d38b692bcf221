"""The checks of the account and group databases: each rule broken alone fails only its own check, and a
line that is not an entry makes them all errors (a line not read is a line not judged)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.model import Status
from tests.checks.support import statuses

CHECKS = [
    "accounts-uid0-root-only", "accounts-gid0-root-only", "accounts-gid0-group-root-only",
    "accounts-passwords-shadowed", "accounts-primary-groups-exist", "accounts-shadow-group-empty",
    "accounts-unique-uids", "accounts-unique-gids", "accounts-unique-names", "accounts-unique-group-names",
]  # fmt: skip
PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\nsync:x:4:0:sync:/bin:/bin/sync\nbob:x:1000:1000::/home/bob:/bin/sh\n"
)
GROUP = "root:x:0:\nshadow:x:42:\nbob:x:1000:\n"


def root_with(tmp_path: Path, passwd: str = PASSWD, group: str = GROUP) -> Path:
    (tmp_path / "etc").mkdir(exist_ok=True)
    (tmp_path / "etc/passwd").write_text(passwd)
    (tmp_path / "etc/group").write_text(group)
    return tmp_path


def test_a_clean_database_passes_everything(tmp_path: Path) -> None:
    # sync keeps primary group 0: CIS 5.4.2.2 names it among the allowed system accounts
    assert statuses(root_with(tmp_path), CHECKS) == dict.fromkeys(CHECKS, Status.PASS)


@pytest.mark.parametrize(
    ("passwd", "group", "failing"),
    [
        (
            PASSWD + "toor:x:0:1000::/root:/bin/sh\n",
            GROUP,
            {"accounts-uid0-root-only", "accounts-unique-uids"},
        ),
        (PASSWD.replace("bob:x:1000:1000", "bob:x:1000:0"), GROUP, {"accounts-gid0-root-only"}),
        (PASSWD.replace("root:x:0:0", "root:x:0:1000"), GROUP, {"accounts-gid0-root-only"}),
        (PASSWD, GROUP + "wheel:x:0:\n", {"accounts-gid0-group-root-only", "accounts-unique-gids"}),
        (PASSWD.replace("bob:x:", "bob:$6$salt$hash:"), GROUP, {"accounts-passwords-shadowed"}),
        (PASSWD.replace("bob:x:1000:1000", "bob:x:1000:2000"), GROUP, {"accounts-primary-groups-exist"}),
        (PASSWD, GROUP.replace("shadow:x:42:", "shadow:x:42:bob"), {"accounts-shadow-group-empty"}),
        (PASSWD.replace("bob:x:1000:1000", "bob:x:1000:42"), GROUP, {"accounts-shadow-group-empty"}),
        (PASSWD + "bob:x:1001:1000::/home/b:/bin/sh\n", GROUP, {"accounts-unique-names"}),
        (PASSWD, GROUP + "bob:x:1001:\n", {"accounts-unique-group-names"}),
        (  # no root at all, and admin's primary group 0 is not an allowed one
            PASSWD.replace("root:x:0:0", "admin:x:0:0"),
            GROUP,
            {"accounts-uid0-root-only", "accounts-gid0-root-only"},
        ),
    ],
)
def test_each_rule_fails_only_its_check(tmp_path: Path, passwd: str, group: str, failing: set[str]) -> None:
    got = statuses(root_with(tmp_path, passwd, group), CHECKS)
    assert {c for c, s in got.items() if s is Status.FAIL} == failing
    assert all(s is Status.PASS for c, s in got.items() if c not in failing)


@pytest.mark.parametrize(
    ("passwd", "group"),
    [(PASSWD + "broken:x:0:0\n", GROUP), (PASSWD, GROUP + "wheel:x:zero:\n")],
)
def test_a_line_that_is_not_an_entry_is_an_error_everywhere(tmp_path: Path, passwd: str, group: str) -> None:
    assert statuses(root_with(tmp_path, passwd, group), CHECKS) == dict.fromkeys(CHECKS, Status.ERROR)


def test_a_missing_group_file_is_an_error(tmp_path: Path) -> None:
    root = root_with(tmp_path)
    (root / "etc/group").unlink()
    assert statuses(root, CHECKS) == dict.fromkeys(CHECKS, Status.ERROR)
