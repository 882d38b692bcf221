"""The CIS checks of the account and group databases themselves (CIS 5.4.2.1-3 and 7.2.1-8 in the Debian
family's numbering): who holds id 0, duplicate ids and names, shadowed password fields, primary groups
that exist, and an empty shadow group. Each reads facts/account_db.py; a line of either file that is not
an entry makes every one of them an error, since a line skipped is a line not judged."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.facts.accounts import PASSWD
from imagevet.facts.files import GROUP
from imagevet.model import Evidence, Outcome, Status, Unknown

if TYPE_CHECKING:  # the facts module is imported when a check first asks for the databases
    from imagevet.facts.account_db import AccountDatabase

# CIS 5.4.2.2 lets these system accounts keep primary group 0 (the benchmark's audit names them).
GID0_ACCOUNTS = frozenset({"root", "sync", "shutdown", "halt", "operator"})

Judge = Callable[["AccountDatabase"], Outcome]


def _database(facts: Facts, judge: Judge) -> Outcome:
    database = facts.account_database
    if isinstance(database, Unknown):
        return Outcome.of(Status.ERROR, database.reason)
    if database.problems:
        return Outcome(Status.ERROR, tuple(Evidence(problem) for problem in database.problems))
    return judge(database)


def _verdict(found: list[Evidence], passed: str, where: str) -> Outcome:
    if found:
        return Outcome(Status.FAIL, tuple(found))
    return Outcome.of(Status.PASS, Evidence(passed, where))


def _duplicates(names: Iterable[object]) -> list[object]:
    return sorted((value for value, count in Counter(names).items() if count > 1), key=str)


def _uid0_root_only(db: AccountDatabase) -> Outcome:
    found = [
        Evidence(f"{u.name} has uid 0", PASSWD, u.line) for u in db.users if u.uid == 0 and u.name != "root"
    ]
    if not any(u.name == "root" and u.uid == 0 for u in db.users):
        found.append(Evidence("no root account with uid 0", PASSWD))
    return _verdict(found, "root is the only account with uid 0", PASSWD)


def _gid0_accounts(db: AccountDatabase) -> Outcome:
    found = [
        Evidence(f"{u.name} has primary group 0", PASSWD, u.line)
        for u in db.users
        if u.gid == 0 and u.name not in GID0_ACCOUNTS
    ]
    found += [
        Evidence(f"root has primary group {u.gid}", PASSWD, u.line)
        for u in db.users
        if u.name == "root" and u.gid
    ]
    return _verdict(
        found, "no account but root (and sync, shutdown, halt, operator) has primary group 0", PASSWD
    )


def _gid0_group(db: AccountDatabase) -> Outcome:
    found = [
        Evidence(f"group {g.name} has gid 0", GROUP, g.line)
        for g in db.groups
        if g.gid == 0 and g.name != "root"
    ]
    return _verdict(found, "root is the only group with gid 0", GROUP)


def _shadowed(db: AccountDatabase) -> Outcome:
    found = [
        Evidence(f"{u.name}'s password field in /etc/passwd is not x", PASSWD, u.line)
        for u in db.users
        if u.password != "x"
    ]
    return _verdict(found, "every account's password lives in /etc/shadow (passwd field x)", PASSWD)


def _groups_exist(db: AccountDatabase) -> Outcome:
    known = {g.gid for g in db.groups}
    found = [
        Evidence(f"{u.name}'s primary group {u.gid} is not in /etc/group", PASSWD, u.line)
        for u in db.users
        if u.gid not in known
    ]
    return _verdict(found, "every primary group in /etc/passwd is in /etc/group", PASSWD)


def _shadow_group_empty(db: AccountDatabase) -> Outcome:
    shadow = [g for g in db.groups if g.name == "shadow"]
    found = [
        Evidence(f"group shadow has members: {', '.join(g.members)}", GROUP, g.line)
        for g in shadow
        if g.members
    ]
    gids = {g.gid for g in shadow}
    found += [
        Evidence(f"{u.name} has primary group shadow", PASSWD, u.line) for u in db.users if u.gid in gids
    ]
    return _verdict(found, "the shadow group has no members" if shadow else "there is no shadow group", GROUP)


def _unique(values: Callable[[AccountDatabase], Iterable[object]], what: str, where: str) -> Judge:
    def judge(db: AccountDatabase) -> Outcome:
        found = [
            Evidence(f"{what} {value} appears more than once", where) for value in _duplicates(values(db))
        ]
        return _verdict(found, f"no {what} appears twice", where)

    return judge


def _check(judge: Judge) -> Callable[[Facts, CheckOptions], Outcome]:
    def predicate(facts: Facts, options: CheckOptions) -> Outcome:
        return _database(facts, judge)

    return predicate


uid0_root_only = _check(_uid0_root_only)
gid0_accounts = _check(_gid0_accounts)
gid0_group = _check(_gid0_group)
shadowed_passwords = _check(_shadowed)
primary_groups_exist = _check(_groups_exist)
shadow_group_empty = _check(_shadow_group_empty)
unique_uids = _check(_unique(lambda db: (u.uid for u in db.users), "uid", PASSWD))
unique_gids = _check(_unique(lambda db: (g.gid for g in db.groups), "gid", GROUP))
unique_user_names = _check(_unique(lambda db: (u.name for u in db.users), "user name", PASSWD))
unique_group_names = _check(_unique(lambda db: (g.name for g in db.groups), "group name", GROUP))
