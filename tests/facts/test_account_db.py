"""The account and group databases as files: every entry kept (duplicates are what the CIS checks look
for), and a NIS compat line or a line that is not an entry kept as a problem, not skipped."""

from __future__ import annotations

from pathlib import Path

from imagevet.facts.account_db import gather_account_database, parse_group, parse_passwd
from imagevet.model import Unknown
from imagevet.target import RootfsTarget


def test_every_entry_is_kept_in_order() -> None:
    users, problems = parse_passwd("root:x:0:0:root:/root:/bin/bash\nroot:x:1000:1000::/home/r:/bin/sh\n")
    assert [(u.name, u.uid, u.line) for u in users] == [("root", 0, 1), ("root", 1000, 2)] and not problems
    groups, problems = parse_group("shadow:x:42:alice,bob\nusers:x:100:\n")
    assert [(g.name, g.gid, g.members) for g in groups] == [
        ("shadow", 42, ("alice", "bob")),
        ("users", 100, ()),
    ]


def test_lines_that_are_not_entries_are_problems_naming_the_line() -> None:
    users, problems = parse_passwd(
        "+@nis::::::\n\nroot:x:0:0:root:/root\nbob:x:one:1::/:/bin/sh\nok:x:1:1::/:/bin/sh\n"
    )
    assert [u.name for u in users] == ["ok"]
    assert problems == [
        "/etc/passwd:1: a NIS compat line, whose accounts cannot be judged from the image",
        "/etc/passwd:3: not an entry of 7 fields with numeric ids",
        "/etc/passwd:4: not an entry of 7 fields with numeric ids",
    ]
    assert parse_group("wheel:x:-1:\n")[1] == ["/etc/group:1: not an entry of 4 fields with numeric ids"]


def test_a_missing_file_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    found = gather_account_database(RootfsTarget(str(tmp_path)))
    assert isinstance(found, Unknown) and "/etc/group" in found.reason
