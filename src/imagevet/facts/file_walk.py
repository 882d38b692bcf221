"""The walk of every file and directory as a fact (target/walk.py walks; this says what to look for):
entries that are world-writable, or whose owner or group the image's own passwd (group) does not list.
The two files are read apart, so a missing /etc/group leaves the owners judged: a file that cannot be
read whole (missing, a line glibc would not parse) judges no id of its kind, and its check errors on it."""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.facts.account_db import parse_group, parse_passwd
from imagevet.facts.accounts import PASSWD
from imagevet.facts.files import GROUP
from imagevet.model import Unknown
from imagevet.target.base import Target
from imagevet.target.confined import DIR, FILE, shown
from imagevet.target.walk import STICKY, WORLD_WRITABLE, Notable, PendingWalk, WalkQuery, WalkResult

__all__ = [
    "DIR", "FILE", "STICKY", "WORLD_WRITABLE", "KnownIds", "Notable", "WalkResult",
    "gather_known_ids", "shown_path", "start_walk",
]  # fmt: skip


@dataclass(frozen=True)
class KnownIds:
    """The uids /etc/passwd lists and the gids /etc/group lists, or why either cannot be known."""

    uids: frozenset[int] | Unknown
    gids: frozenset[int] | Unknown


def gather_known_ids(target: Target) -> KnownIds:
    passwd, group = target.read_text(PASSWD), target.read_text(GROUP)
    uids: frozenset[int] | Unknown
    gids: frozenset[int] | Unknown
    if isinstance(passwd, Unknown):
        uids = Unknown(f"{PASSWD}: {passwd.reason}")
    else:
        users, problems = parse_passwd(passwd)
        uids = Unknown(problems[0]) if problems else frozenset(user.uid for user in users)
    if isinstance(group, Unknown):
        gids = Unknown(f"{GROUP}: {group.reason}")
    else:
        groups, problems = parse_group(group)
        gids = Unknown(problems[0]) if problems else frozenset(g.gid for g in groups)
    return KnownIds(uids, gids)


def start_walk(target: Target, known: KnownIds) -> PendingWalk:
    uids = None if isinstance(known.uids, Unknown) else known.uids
    gids = None if isinstance(known.gids, Unknown) else known.gids
    return target.start_walk(WalkQuery(uids, gids))


def shown_path(entry: Notable) -> str:
    """The entry's path for a report: the image's own text, escaped and cut short."""
    return shown([part for part in entry.path.split("/") if part])
