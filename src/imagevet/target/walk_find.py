"""The walk of target/walk.py done by find(1): on a directory tree of this machine (in a child process,
alongside the audit) and on an SSH host (one command instead of a round trip per file).

find starts at the image root (``find -P ROOT``, ROOT already resolved by the target), follows no link
below it, and prints one record a file or directory: ``TYPE MODE UID GID PATH`` and a NUL for a notable
entry, a lone NUL for the others (so the entries are counted without being kept). The output is read as
it comes, in bounded memory: past MAX_NOTABLE notable entries only a count is kept. Pure: the caller
runs the command and feeds the bytes.
"""

from __future__ import annotations

import re

from imagevet.model import Unknown
from imagevet.target.walk import (
    MAX_NOTABLE,
    MAX_WALK_ENTRIES,
    SKIPPED_NAMES,
    SKIPPED_PATHS,
    SKIPPED_PATTERNS,
    Notable,
    WalkQuery,
    WalkResult,
    collect,
    is_notable,
)

# Mounted filesystems whose files are not this host's own (CIS's audit leaves out nfs, proc and smb).
REMOTE_FSTYPES = (
    *("nfs", "nfs4", "cifs", "smb3", "smbfs", "proc", "fuse.sshfs", "9p", "afs", "ceph", "glusterfs"),
)
_KINDS = {b"f": "file", b"d": "dir"}
_OCTAL = re.compile(r"\\([0-7]{3})")  # the kernel writes a space, tab, newline or backslash as \ooo


def _glob_escaped(path: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in path)


def _ids(test: str, known: frozenset[int] | None) -> list[str]:
    """``! -uid 0``: a candidate for an id outside ``known`` (FindReader decides with ``is_notable``).
    find tests each id as a predicate of its own, a few microseconds an entry for a long list, so it
    prints every entry not owned by id 0 (a few hundred on a Debian root) and the reader judges those."""
    if known is None:
        return []
    return ["-o", "!", test, "0"]


def find_arguments(query: WalkQuery, root: str, mounts: tuple[str, ...] = ()) -> list[str]:
    """find's arguments (after ``find``) for the tree at ``root`` (a path on the machine find runs on).
    ``mounts``: image paths of mounted filesystems to leave out (a live host's network mounts)."""
    base = _glob_escaped(root.rstrip("/"))
    # Each -path test is guarded by a -name test of its last component: a short match on every directory
    # instead of a pattern over the whole path (a fifth of find's time on a Debian root otherwise).
    skipped: list[str] = []
    for path in (*SKIPPED_PATHS, *mounts):
        name = _glob_escaped(path.rstrip("/").rsplit("/", 1)[-1])
        guarded = ["(", "-name", name, "-path", base + _glob_escaped(path), ")"]
        skipped += [*(["-o"] if skipped else []), *guarded]
    below = base + "/*"  # the image's own paths: the root, and the host path above it, never match
    for name in SKIPPED_NAMES:
        skipped += ["-o", "(", "-name", name, "-path", below, ")"]
    for pattern in SKIPPED_PATTERNS:  # "*/kubelet/pods": at the image's top or anywhere below it
        tail = _glob_escaped(pattern.removeprefix("*"))
        name = pattern.rsplit("/", 1)[-1]
        skipped += [
            "-o",
            "(",
            "-name",
            name,
            "(",
            "-path",
            base + tail,
            "-o",
            "-path",
            base + "/*" + tail,
            ")",
            ")",
        ]
    notable = [
        "(", "-perm", "-0002", "(", "-type", "f", "-o", "!", "-perm", "-1000", ")", ")",
        *_ids("-uid", query.known_uids),
        *_ids("-gid", query.known_gids),
    ]  # fmt: skip
    printed = ["(", "(", *notable, ")", "-printf", r"%y %m %U %G %P\0", "-o", "-printf", r"\0", ")"]
    # Files and directories apart, the skipped names tested only under -type d: GNU find (-O1, its default)
    # moves tests of the name alone to the front of an AND list, so "-type d ( -name ... ) -prune" ran
    # every -name on every file too, 8 fnmatch calls an entry, half of the walk's time on a Debian root
    # (76 ms against 43, docs/benchmarks.md). Here they sit behind an OR with the stat tests, which it
    # does not move ahead of -type.
    return [
        "-P", root if root.startswith("/") else "./" + root,
        "(", "-type", "f", *printed, ")", "-o",
        "(", "-type", "d", "(", "(", *skipped, ")", "-prune", "-o", *printed, ")", ")",
    ]  # fmt: skip


def remote_mounts(mounts_text: str) -> tuple[str, ...]:
    """Mount points of network and pseudo filesystems in /proc/self/mounts (octal escapes undone)."""
    found: list[str] = []
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and (fields[2] in REMOTE_FSTYPES or fields[2].startswith("nfs")):
            point = _OCTAL.sub(lambda m: chr(int(m[1], 8)), fields[1])
            if point != "/":
                found.append(point)
    return tuple(found)


class FindReader:
    """find's standard output, fed in chunks as it arrives."""

    def __init__(self, query: WalkQuery) -> None:
        self._query = query
        self._rest = b""
        self._found: list[Notable] = []
        self._more = 0
        self.entries = 0
        self.refusal: Unknown | None = None

    def feed(self, chunk: bytes) -> bool:
        """Take a chunk; False once the walk must stop (too many entries, or a record find never prints)."""
        records = (self._rest + chunk).split(b"\0")
        self._rest = records.pop()
        if len(self._rest) > 65536:
            self.refusal = Unknown("find printed a record longer than any path")
            return False
        for record in records:
            self.entries += 1
            if record and not self._record(record):
                return False
        if self.entries > MAX_WALK_ENTRIES:
            self.refusal = Unknown(f"the image holds more than {MAX_WALK_ENTRIES} files and directories")
            return False
        return True

    def _record(self, record: bytes) -> bool:
        fields = record.split(b" ", 4)
        kind = _KINDS.get(fields[0]) if len(fields) == 5 else None
        if kind is None or not all(f.isdigit() for f in fields[1:4]):
            self.refusal = Unknown("find printed a record it was not asked for")
            return False
        mode, uid, gid = int(fields[1], 8), int(fields[2]), int(fields[3])
        if not is_notable(kind, mode, uid, gid, self._query):  # a candidate find printed: root-owned
            return True
        if len(self._found) >= MAX_NOTABLE:
            self._more += 1
            return True
        path = "/" + fields[4].decode("utf-8", "surrogateescape")
        self._found.append(Notable(path, kind, mode, uid, gid))
        return True

    def finish(self, status: int, errors: bytes, live: bool) -> WalkResult | Unknown:
        """The walk, or why it cannot be trusted: find failed, or said something other than (on a live
        host) "No such file or directory" for a file that went away while it looked."""
        if self.refusal is not None:
            return self.refusal
        if self._rest:
            return Unknown("find's output ended part-way through a record")
        lines = [line for line in errors.decode("utf-8", "replace").splitlines() if line.strip()]
        if live:  # a file that went away while find looked: find says so and exits 1, nothing else
            vanished = [line for line in lines if line.endswith("No such file or directory")]
            lines = [line for line in lines if line not in vanished]
            if status != 0 and not (status == 1 and vanished):
                lines = lines or [
                    f"find stopped with exit status {status}" if status > 0 else "find was killed"
                ]
        if lines or (status != 0 and not live):
            said = lines[0] if lines else f"exit status {status}"
            said = "".join(c if c.isprintable() else "?" for c in said)[:200]
            return Unknown(f"walking the files failed: {said}")
        more = self._more
        result = collect(self._found, self.entries)
        return WalkResult(result.entries, result.notable, result.more + more)
