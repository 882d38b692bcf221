"""Root confinement shared by every kind of target.

A target only has to answer four questions about a path given as components inside the image: what is
there (without following a final link), where a link points, which names a directory holds, and the bytes
of a regular file. This class resolves every path one component at a time on top of those answers: a
link's target is interpreted inside the image (absolute links are re-rooted, ``..`` stops at the root),
up to 40 links, so no kind of target can be made to read outside the image.
"""

from __future__ import annotations

import fnmatch
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imagevet.model import TargetInfo, Unknown
from imagevet.target.base import MAX_READ_BYTES

if TYPE_CHECKING:
    from imagevet.target.walk import PendingWalk, WalkQuery

# Linux gives up after 40 links in one lookup (ELOOP); we do the same.
MAX_SYMLINK_HOPS = 40

FILE, DIR, LINK, OTHER = "file", "dir", "link", "other"


@dataclass(frozen=True)
class Node:
    """What is at a path: kind and size, and, where the target records them, permission bits and owner
    (-1 when unknown)."""

    kind: str  # file | dir | link | other (devices, FIFOs, sockets)
    size: int = 0
    mode: int = -1  # permission bits (stat.S_IMODE)
    uid: int = -1
    gid: int = -1


def split_path(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def shown(parts: list[str], limit: int = 160) -> str:
    """An image path for a message: non-printable characters escaped, at most ``limit`` characters."""
    text = "/" + "/".join(parts)
    escaped = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


class ConfinedTarget(ABC):
    """The Target interface implemented over four primitives; subclasses provide the primitives."""

    def __init__(self, info: TargetInfo, live_host: bool = False) -> None:
        self._info = info
        self._live = live_host
        self._scratch: str | None = None  # private directory for host_path copies, made on first use

    @property
    def info(self) -> TargetInfo:
        return self._info

    @property
    def is_live_host(self) -> bool:
        return self._live

    def host_path(self, path: str) -> str | Unknown:
        """A local copy of the image file ``path`` (for libraries that must open a file themselves, like
        SQLite), in a private scratch directory removed by close()."""
        data = self.read_bytes(path, max_bytes=512 * 1024 * 1024)
        if isinstance(data, Unknown):
            return data
        import tempfile  # here: with shutil it imports bz2, lzma and random, which an audit never needs

        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="imagevet-copy-")
        fd, name = tempfile.mkstemp(dir=self._scratch)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return name

    def failure(self) -> str | None:
        """Why reading the image failed part-way, if it did (remote disks: a block that could not be
        fetched or verified). Readers may have caught the error; the command must not trust its result."""
        return None

    def close(self) -> None:
        """Release what the target holds: here the scratch copies; subclasses add their own resources."""
        if self._scratch is not None:
            import shutil

            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    # ---- primitives -------------------------------------------------------------------------------
    @abstractmethod
    def _node(self, parts: list[str]) -> Node | None:
        """What is at ``parts`` without following a final link; None when nothing is. May raise OSError."""

    @abstractmethod
    def _link(self, parts: list[str]) -> str:
        """The target text of the link at ``parts``. May raise OSError."""

    @abstractmethod
    def _names(self, parts: list[str]) -> list[str]:
        """The names in the directory at ``parts``. May raise OSError."""

    @abstractmethod
    def _content(self, parts: list[str], path: str, max_bytes: int) -> bytes | Unknown:
        """At most ``max_bytes + 1`` bytes of the regular file at ``parts`` (links already resolved)."""

    # ---- shared logic ------------------------------------------------------------------------------
    def _resolve(self, path: str) -> list[str] | Unknown:
        """Follow ``path`` inside the image. Paths reached through links are the image's own text: the
        reasons show them escaped and cut short (``shown``), so a link cannot write to the terminal."""
        pending = split_path(path)
        pending.reverse()
        done: list[str] = []
        hops = 0
        while pending:
            part = pending.pop()
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = [*done, part]
            try:
                node = self._node(candidate)
            except OSError as exc:
                return Unknown(f"{shown(candidate)} cannot be examined: {exc.strerror or exc}")
            if node is None:
                missing = shown(candidate)
                via = "" if hops == 0 else f" (following links, {missing} is missing)"
                return Unknown(f"{path} does not exist in the image{via}")
            if node.kind == LINK:
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return Unknown(f"{path} has too many levels of symbolic links (a link loop)")
                try:
                    link = self._link(candidate)
                except OSError as exc:
                    return Unknown(f"{shown(candidate)} is an unreadable link: {exc.strerror or exc}")
                if link.startswith("/"):
                    done = []
                rest = split_path(link)
                rest.reverse()
                pending.extend(rest)
                continue
            if pending and node.kind != DIR:
                return Unknown(f"{shown(candidate)} is not a directory")
            done = candidate
        return done

    def start_walk(self, query: WalkQuery) -> PendingWalk:
        """Every file and directory of the image, judged by ``query`` (target/walk.py). Here through the
        primitives, when the result is first asked for; targets that can run find(1) override it."""
        from imagevet.target.walk import Deferred, walk_confined

        return Deferred(lambda: walk_confined(self, query))

    def canonical(self, path: str) -> str | Unknown:
        parts = self._resolve(path)
        if isinstance(parts, Unknown):
            return parts
        return "/" + "/".join(parts)

    def readlink(self, path: str) -> str | None:
        parts = split_path(path)
        if not parts or parts[-1] == "..":
            return None
        parent = self._resolve("/".join(parts[:-1]))
        if isinstance(parent, Unknown):
            return None
        candidate = [*parent, parts[-1]]
        try:
            node = self._node(candidate)
            return self._link(candidate) if node is not None and node.kind == LINK else None
        except OSError:
            return None

    def _examine(self, path: str) -> tuple[list[str], Node | None] | Unknown:
        """The confined components of ``path`` and the node they name (None when nothing is there)."""
        parts = self._resolve(path)
        if isinstance(parts, Unknown):
            return parts
        try:
            return parts, self._node(parts)
        except OSError as exc:
            return Unknown(f"{path} cannot be examined: {exc.strerror or exc}")

    def read_bytes(self, path: str, max_bytes: int = MAX_READ_BYTES) -> bytes | Unknown:
        found = self._examine(path)
        if isinstance(found, Unknown):
            return found
        parts, node = found
        if node is None or node.kind != FILE:
            return Unknown(f"{path} is not a regular file")
        data = self._content(parts, path, max_bytes)
        if isinstance(data, Unknown):
            return data
        if len(data) > max_bytes:
            return Unknown(f"{path} is larger than the {max_bytes} byte limit")
        return data

    def read_text(self, path: str, max_bytes: int = MAX_READ_BYTES) -> str | Unknown:
        data = self.read_bytes(path, max_bytes)
        if isinstance(data, Unknown):
            return data
        if b"\0" in data:
            return Unknown(f"{path} is a binary file, not text")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Unknown(f"{path} is not valid UTF-8 (byte {exc.start})")

    def list_dir(self, path: str) -> list[str] | Unknown:
        parts = self._resolve(path)
        if isinstance(parts, Unknown):
            return parts
        try:
            node = self._node(parts)
            if node is None or node.kind != DIR:
                return Unknown(f"{path} is not a directory")
            return sorted(self._names(parts))
        except OSError as exc:
            return Unknown(f"{path} cannot be listed: {exc.strerror or exc}")

    def stat(self, path: str) -> Node | Unknown:
        """Kind, size, permission bits and owner of what ``path`` resolves to inside the image."""
        found = self._examine(path)
        if isinstance(found, Unknown):
            return found
        node = found[1]
        return node if node is not None else Unknown(f"{path} does not exist in the image")

    def _kind(self, path: str) -> str | None:
        found = self._examine(path)
        if isinstance(found, Unknown) or found[1] is None:
            return None
        return found[1].kind

    def is_file(self, path: str) -> bool:
        return self._kind(path) == FILE

    def is_dir(self, path: str) -> bool:
        return self._kind(path) == DIR

    def exists(self, path: str) -> bool:
        return self._kind(path) is not None

    def glob(self, pattern: str) -> list[str]:
        """Expand a glob like glob(3) with sorted results; every directory step is root-confined."""
        matches = [""]
        for part in split_path(pattern):
            following: list[str] = []
            for prefix in matches:
                if not any(ch in part for ch in "*?["):
                    following.append(f"{prefix}/{part}")
                    continue
                names = self.list_dir(prefix or "/")
                if isinstance(names, Unknown):
                    continue
                hidden_ok = part.startswith(".")
                following.extend(
                    f"{prefix}/{name}"
                    for name in names
                    if fnmatch.fnmatchcase(name, part) and (hidden_ok or not name.startswith("."))
                )
            matches = following
        # Like glob(3), a name matches when its directory entry exists, even as a dangling link.
        return sorted(m for m in matches if m and (self.exists(m) or self.readlink(m) is not None))
