"""The account and group databases as files (/etc/passwd and /etc/group, every line), for the CIS checks
that judge the databases themselves: duplicate ids and names, who has id 0, shadowed password fields,
primary groups that exist, an empty shadow group.

Unlike facts/accounts.py, which reads what glibc would use (the first entry of a name), this keeps every
entry: a duplicate is exactly what some of these checks look for. A line that is not an entry (the wrong
number of fields, an id that is not a number), and a NIS compat ``+``/``-`` line (the accounts it brings
in are not in the image), is kept as a problem, and the checks report it as an error rather than judge
around it; blank lines are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.facts.accounts import PASSWD
from imagevet.facts.files import GROUP
from imagevet.model import Unknown
from imagevet.target.base import Target


@dataclass(frozen=True)
class PasswdEntry:
    name: str
    password: str  # the passwd field itself: "x" when the hash lives in /etc/shadow
    uid: int
    gid: int
    line: int
    shell: str = ""  # the login shell (the last field)
    home: str = ""  # the home directory (the sixth field)


@dataclass(frozen=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class AccountDatabase:
    users: tuple[PasswdEntry, ...]
    groups: tuple[GroupEntry, ...]
    problems: tuple[str, ...]  # "path:line: why" for each line that is not an entry


def _fields(path: str, text: str, count: int) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """The entries' fields with their line numbers, and the lines that are not entries."""
    entries, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line[0] in "+-":  # NIS compat: the accounts it brings in (or hides) are not in the file
            problems.append(
                f"{path}:{number}: a NIS compat line, whose accounts cannot be judged from the image"
            )
            continue
        fields = line.split(":")
        ids = fields[2:4] if count == 7 else fields[2:3]
        if len(fields) != count or not all(f.isascii() and f.isdigit() for f in ids):
            problems.append(f"{path}:{number}: not an entry of {count} fields with numeric ids")
            continue
        entries.append((number, fields))
    return entries, problems


def parse_passwd(text: str) -> tuple[tuple[PasswdEntry, ...], list[str]]:
    entries, problems = _fields(PASSWD, text, 7)
    users = tuple(PasswdEntry(f[0], f[1], int(f[2]), int(f[3]), n, f[6], f[5]) for n, f in entries)
    return users, problems


def parse_group(text: str) -> tuple[tuple[GroupEntry, ...], list[str]]:
    entries, problems = _fields(GROUP, text, 4)
    groups = tuple(GroupEntry(f[0], int(f[2]), tuple(m for m in f[3].split(",") if m), n) for n, f in entries)
    return groups, problems


def gather_account_database(target: Target) -> AccountDatabase | Unknown:
    passwd, group = target.read_text(PASSWD), target.read_text(GROUP)
    for path, text in ((PASSWD, passwd), (GROUP, group)):
        if isinstance(text, Unknown):
            return Unknown(f"{path}: {text.reason}")
    assert isinstance(passwd, str) and isinstance(group, str)
    users, user_problems = parse_passwd(passwd)
    groups, group_problems = parse_group(group)
    return AccountDatabase(users, groups, (*user_problems, *group_problems))
