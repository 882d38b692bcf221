"""The home directories of the accounts that can log in, and the dot files at their top (CIS 7.2.9 and
7.2.10 in the Debian family's numbering).

An account can log in when its shell is one /etc/shells lists or a usual interpreter, and not nologin
or false (facts/logins.can_log_in): CIS's audit takes the /etc/shells list, root included. Only the top
of each home is listed (CIS looks at ``-maxdepth 1``), so the cost is one directory per such account,
never a walk of /home.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.facts.account_db import PasswdEntry
from imagevet.facts.logins import can_log_in
from imagevet.model import Unknown
from imagevet.target.base import Target
from imagevet.target.confined import Node

MAX_DOT_FILES = 10_000  # a home with more dot files than this is not judged (an error, not a pass)


@dataclass(frozen=True)
class DotFile:
    name: str
    node: Node | Unknown  # what the name resolves to
    is_link: bool


@dataclass(frozen=True)
class HomeDir:
    user: PasswdEntry
    node: Node | Unknown | None  # None: the home does not exist
    dot_files: tuple[DotFile, ...]  # empty when the home does not exist or is not a directory
    problem: str | None = None  # why its dot files could not be listed


def login_users(
    users: tuple[PasswdEntry, ...], shells: tuple[str, ...], programs: dict[str, str] | None = None
) -> list[PasswdEntry]:
    """The accounts that get a shell at login (facts/logins.can_log_in; ``programs``: what each shell
    resolves to in the image)."""
    programs = programs or {}
    return [user for user in users if can_log_in(user.shell, shells, program=programs.get(user.shell))]


def _home(target: Target, user: PasswdEntry) -> HomeDir:
    path = user.home
    if not path.startswith("/") or not target.exists(path):
        return HomeDir(user, None, ())
    node = target.stat(path)
    if isinstance(node, Unknown) or node.kind != "dir":
        return HomeDir(user, node, ())
    names = target.list_dir(path)
    if isinstance(names, Unknown):
        return HomeDir(user, node, (), names.reason)
    dots = [name for name in names if name.startswith(".") and name not in (".", "..")]
    if len(dots) > MAX_DOT_FILES:
        return HomeDir(user, node, (), f"{path}: more than {MAX_DOT_FILES} dot files, not judged")
    base = path.rstrip("/")
    files = tuple(
        DotFile(name, target.stat(f"{base}/{name}"), target.readlink(f"{base}/{name}") is not None)
        for name in dots
    )
    return HomeDir(user, node, files)


def gather_homes(target: Target, users: list[PasswdEntry]) -> tuple[HomeDir, ...]:
    """Each account's home, each directory listed once: accounts that share a home (a thousand with
    /home/shared, say) reuse the one listing, so the cost stays one directory per home."""
    listed: dict[str, HomeDir] = {}
    homes = []
    for user in users:
        seen = listed.get(user.home)
        if seen is None:
            seen = listed[user.home] = _home(target, user)
        homes.append(HomeDir(user, seen.node, seen.dot_files, seen.problem))
    return tuple(homes)
