"""Checks over every file and directory of the image (file-perms-world-writable, -sticky-dirs, -unowned,
-ungrouped): CIS's "world writable files and directories are secured" and "no files or directories without
an owner and a group". They read one walk (Facts.file_walk, target/walk.py) that keeps only the notable
entries; a walk that could not finish is an error, never a pass over the part it saw."""

from __future__ import annotations

from collections.abc import Callable

from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.facts.file_walk import FILE, STICKY, WORLD_WRITABLE, Notable, shown_path
from imagevet.model import Evidence, Outcome, Status, Unknown

WALK_CHECKS = frozenset(
    {"file-perms-world-writable", "file-perms-sticky-dirs", "file-perms-unowned", "file-perms-ungrouped"}
)
SHOWN = 20  # entries named in the evidence; the rest are counted


def _judge(
    facts: Facts,
    hit: Callable[[Notable], bool],
    describe: Callable[[Notable], str],
    none: str,
    undecided: str | None = None,
) -> Outcome:
    """The entries of the walk ``hit`` picks, each ``describe``d; ``none`` when there are none.
    ``undecided``: why the check cannot judge even a finished walk (an error after the walk's own)."""
    walk = facts.file_walk
    if isinstance(walk, Unknown):
        return Outcome.of(Status.ERROR, walk.reason)
    if undecided is not None:
        return Outcome.of(Status.ERROR, undecided)
    hits = [entry for entry in walk.notable if hit(entry)]
    if not hits:
        if walk.more:  # past the notable cap the entries were counted, not kept: they may be hits
            kept = len(walk.notable)
            return Outcome.of(Status.ERROR, f"more than {kept} notable entries; not all were kept")
        return Outcome.of(Status.PASS, f"{none} (of {walk.entries} files and directories)")
    evidence = [Evidence(describe(entry), shown_path(entry)) for entry in hits[:SHOWN]]
    left = len(hits) - SHOWN + walk.more
    if left > 0:
        evidence.append(Evidence(f"and {left} more" if not walk.more else f"and up to {left} more"))
    return Outcome(Status.FAIL, tuple(evidence))


def world_writable_files(facts: Facts, options: CheckOptions) -> Outcome:
    return _judge(
        facts,
        lambda e: e.kind == FILE and bool(e.mode & WORLD_WRITABLE),
        lambda e: f"world-writable file (mode {e.mode:04o})",
        "no regular file is world-writable",
    )


def sticky_dirs(facts: Facts, options: CheckOptions) -> Outcome:
    return _judge(
        facts,
        lambda e: e.kind != FILE and bool(e.mode & WORLD_WRITABLE) and not e.mode & STICKY,
        lambda e: f"world-writable directory without the sticky bit (mode {e.mode:04o})",
        "every world-writable directory has the sticky bit",
    )


def unowned(facts: Facts, options: CheckOptions) -> Outcome:
    known = facts.known_ids.uids
    return _judge(
        facts,
        lambda e: not isinstance(known, Unknown) and e.uid not in known,
        lambda e: f"owned by uid {e.uid}, which /etc/passwd does not list",
        "every file and directory has an owner listed in /etc/passwd",
        f"the users the image knows are not known: {known.reason}" if isinstance(known, Unknown) else None,
    )


def ungrouped(facts: Facts, options: CheckOptions) -> Outcome:
    known = facts.known_ids.gids
    return _judge(
        facts,
        lambda e: not isinstance(known, Unknown) and e.gid not in known,
        lambda e: f"group gid {e.gid}, which /etc/group does not list",
        "every file and directory has a group listed in /etc/group",
        f"the groups the image knows are not known: {known.reason}" if isinstance(known, Unknown) else None,
    )
