"""Every file and directory of an image, looked at once: which are world-writable, which have an owner or a
group the image does not know (CIS 7.1.11 and 7.1.12 of the Debian family, 6.1.9 to 6.1.12 of Amazon Linux
2023, SSG's file_permissions_unauthorized_world_writable, dir_perms_world_writable_sticky_bits,
no_files_unowned_by_user and file_permissions_ungroupowned).

Like the CIS audit it follows, the walk looks at regular files and directories only (a link's own mode
means nothing, device nodes are /dev's business), never follows a link, and leaves out what is not the
image's own data: /proc, /sys, /run/user, /snap, and the container runtimes' trees (any ``containerd``
directory, ``kubelet/pods``) whose contents belong to the containers they run. Only the notable entries
are kept, so a walk of a million files costs a counter, not a list.

``walk_confined`` walks any target through its four primitives; a directory tree on this machine is
walked by find(1) in a child process instead (target/rootfs.py: twice as fast, and on the other core
while the rest of the audit runs). Both apply ``is_notable`` and must give the same answer
(tests/target/test_walk.py compares them on the same trees).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from imagevet.errors import TargetError
from imagevet.model import Unknown
from imagevet.target.confined import DIR, FILE, shown

if TYPE_CHECKING:
    from imagevet.target.confined import ConfinedTarget, Node

# Image paths left out of the walk (exact, from the root) and directory names left out wherever they are.
SKIPPED_PATHS = ("/proc", "/sys", "/run/user", "/snap")
SKIPPED_NAMES = ("containerd",)
SKIPPED_PATTERNS = ("*/kubelet/pods",)
# A walk refuses to go on past this many entries (a hostile or absurd image), and keeps at most this many
# notable ones (the verdict is already decided; the rest are counted).
MAX_WALK_ENTRIES = 20_000_000
MAX_NOTABLE = 10_000

WORLD_WRITABLE = 0o002
STICKY = 0o1000


@dataclass(frozen=True)
class WalkQuery:
    """What makes an entry notable: world-writable, or an owner (group) outside the image's known ids.
    None for a set that could not be read: then no entry is notable for it (the check errors instead)."""

    known_uids: frozenset[int] | None
    known_gids: frozenset[int] | None


@dataclass(frozen=True)
class Notable:
    """One file or directory worth a look; ``path`` is the image's own text (escape it to show it)."""

    path: str
    kind: str  # file | dir
    mode: int
    uid: int
    gid: int


@dataclass(frozen=True)
class WalkResult:
    entries: int  # files and directories looked at
    notable: tuple[Notable, ...]  # in path order, at most MAX_NOTABLE
    more: int  # notable entries past MAX_NOTABLE, counted only


class PendingWalk(Protocol):
    """A walk that may be running already; ``result`` waits for it (once; later calls return the same)."""

    def result(self) -> WalkResult | Unknown: ...


class Deferred:
    """A walk done when its result is first asked for, as a PendingWalk."""

    def __init__(self, walk: Callable[[], WalkResult | Unknown]) -> None:
        self._walk = walk
        self._outcome: WalkResult | Unknown | None = None

    def result(self) -> WalkResult | Unknown:
        if self._outcome is None:
            self._outcome = self._walk()
        return self._outcome


def is_skipped(path: str) -> bool:
    """True for a directory the walk does not enter (``path`` absolute inside the image)."""
    if path in SKIPPED_PATHS or path.rsplit("/", 1)[-1] in SKIPPED_NAMES:
        return True
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in SKIPPED_PATTERNS)


def is_notable(kind: str, mode: int, uid: int, gid: int, query: WalkQuery) -> bool:
    if mode & WORLD_WRITABLE and (kind == FILE or not mode & STICKY):
        return True
    if query.known_uids is not None and uid not in query.known_uids:
        return True
    return query.known_gids is not None and gid not in query.known_gids


def collect(found: list[Notable], entries: int) -> WalkResult:
    found.sort(key=lambda n: n.path)
    return WalkResult(entries, tuple(found[:MAX_NOTABLE]), max(0, len(found) - MAX_NOTABLE))


def _unrecorded(node: Node, path: str) -> Unknown | None:
    if node.mode < 0 or node.uid < 0 or node.gid < 0:
        where = shown([part for part in path.split("/") if part])
        return Unknown(f"this kind of image does not record the mode and owner of {where}")
    return None


def walk_confined(
    target: ConfinedTarget, query: WalkQuery, implied: Node | None = None
) -> WalkResult | Unknown:
    """Walk ``target`` depth first through its primitives: names of a directory, then each entry without
    following it; the first entry that cannot be examined makes the walk Unknown (never a partial pass).
    ``implied``: what a directory the target records no mode or owner for is taken to be (a container
    layer's implied parents: the runtime creates them 0755 root:root); without it such an entry is
    Unknown."""
    found: list[Notable] = []
    try:
        top = target._node([])
    except (OSError, TargetError) as exc:
        return Unknown(f"the image root cannot be examined: {getattr(exc, 'strerror', None) or exc}")
    if top is None or top.kind != DIR:
        return Unknown("the image root is not a directory")
    if implied is not None and top.mode < 0:
        top = implied
    unrecorded = _unrecorded(top, "/")
    if unrecorded is not None:
        return unrecorded
    if is_notable(DIR, top.mode, top.uid, top.gid, query):
        found.append(Notable("/", DIR, top.mode, top.uid, top.gid))
    entries = 1
    pending: list[list[str]] = [[]]
    while pending:
        parts = pending.pop()
        try:
            names = target._names(parts)
        except (OSError, TargetError) as exc:  # a remote disk's block that failed: a reason, not a crash
            return Unknown(f"{shown(parts)} cannot be listed: {getattr(exc, 'strerror', None) or exc}")
        for name in names:
            child = [*parts, name]
            path = "/" + "/".join(child)
            try:
                node = target._node(child)
            except (OSError, TargetError) as exc:
                return Unknown(f"{shown(child)} cannot be examined: {getattr(exc, 'strerror', None) or exc}")
            if node is None or node.kind not in (FILE, DIR):
                continue
            if node.kind == DIR and is_skipped(path):
                continue  # neither judged nor entered (nor fixed: the fixes prune the same paths)
            if implied is not None and node.kind == DIR and node.mode < 0:
                node = implied
            entries += 1
            if entries > MAX_WALK_ENTRIES:
                return Unknown(f"the image holds more than {MAX_WALK_ENTRIES} files and directories")
            unrecorded = _unrecorded(node, path)
            if unrecorded is not None:
                return unrecorded
            if is_notable(node.kind, node.mode, node.uid, node.gid, query):
                found.append(Notable(path, node.kind, node.mode, node.uid, node.gid))
            if node.kind == DIR:
                pending.append(child)
    return collect(found, entries)
