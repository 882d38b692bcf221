"""The interface every kind of target provides (root directory today; archives and disks later)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from imagevet.model import TargetInfo, Unknown

if TYPE_CHECKING:
    from imagevet.target.walk import PendingWalk, WalkQuery

# Configuration files are small; anything larger is either not what we think it is or hostile.
MAX_READ_BYTES = 4 * 1024 * 1024

# Disk images read where they live: an AMI's EBS snapshot, a file behind an HTTP(S) URL (target/remote.py).
REMOTE_PREFIXES = ("ami:", "http://", "https://", "disk:http://", "disk:https://")


class Target(Protocol):
    """A root-confined, read-only view of an image. Paths are absolute paths *inside* the image."""

    @property
    def info(self) -> TargetInfo: ...

    @property
    def is_live_host(self) -> bool:
        """True when the target is the running system, so /proc and /sys describe it."""
        ...

    def read_text(self, path: str, max_bytes: int = MAX_READ_BYTES) -> str | Unknown:
        """The file's text, or why it cannot be had (missing, not a file, too large, binary, not UTF-8)."""
        ...

    def read_bytes(self, path: str, max_bytes: int = MAX_READ_BYTES) -> bytes | Unknown:
        """The file's bytes, size-capped, or why they cannot be had."""
        ...

    def list_dir(self, path: str) -> list[str] | Unknown:
        """Names in a directory, sorted, or why it cannot be listed."""
        ...

    def glob(self, pattern: str) -> list[str]:
        """Image paths matching a glob pattern (``*``, ``?``, ``[...]`` per component), in lexical order."""
        ...

    def is_file(self, path: str) -> bool: ...

    def is_dir(self, path: str) -> bool: ...

    def exists(self, path: str) -> bool: ...

    def readlink(self, path: str) -> str | None:
        """The text of the link at ``path`` (its parents resolved inside the image), None if not a link."""
        ...

    def host_path(self, path: str) -> str | Unknown:
        """A path on this machine to the image file ``path`` (links resolved inside the image), for
        libraries that must open a file themselves (SQLite). Only regular files are given out."""
        ...

    def stat(self, path: str) -> Any:
        """Kind, size, mode and owner (a confined.Node) of what ``path`` resolves to, or Unknown."""
        ...

    def close(self) -> None:
        """Release temporary files or connections held by the target."""
        ...

    def failure(self) -> str | None:
        """Why reading the image failed part-way (a remote block that could not be fetched or verified),
        or None. A reader may have caught that error and carried on; the command must not."""
        ...

    def start_walk(self, query: WalkQuery) -> PendingWalk:
        """Begin the walk of every file and directory (target/walk.py); it may run while the audit goes on."""
        ...

    def canonical(self, path: str) -> str | Unknown:
        """The image path a path resolves to after following links inside the image."""
        ...
