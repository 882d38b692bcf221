"""The walk of every file and directory as a fact (target/walk.py walks; this says what to look for):
entries that are world-writable, or whose owner or group the image's own passwd and group do not list.
An account database that cannot be read whole judges no owner: the owner checks then error on it."""

from __future__ import annotations

from imagevet.facts.account_db import AccountDatabase
from imagevet.model import Unknown
from imagevet.target.base import Target
from imagevet.target.confined import DIR, FILE, shown
from imagevet.target.walk import STICKY, WORLD_WRITABLE, Notable, PendingWalk, WalkQuery, WalkResult

__all__ = ["DIR", "FILE", "STICKY", "WORLD_WRITABLE", "Notable", "WalkResult", "shown_path", "start_walk"]


def start_walk(target: Target, database: AccountDatabase | Unknown) -> PendingWalk:
    if isinstance(database, Unknown) or database.problems:
        return target.start_walk(WalkQuery(None, None))
    users = frozenset(user.uid for user in database.users)
    return target.start_walk(WalkQuery(users, frozenset(group.gid for group in database.groups)))


def shown_path(entry: Notable) -> str:
    """The entry's path for a report: the image's own text, escaped and cut short."""
    return shown([part for part in entry.path.split("/") if part])
