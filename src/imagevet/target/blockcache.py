"""The on-disk block cache: blocks of remote images kept between runs, so auditing an AMI and then listing
its packages and matching its advisories fetches each block once.

Only sources with a stable identity are cached (an EBS snapshot id, which never changes; a URL with a
strong ETag, its size and Last-Modified). Each block is a file ``<index>-<sha256>`` in a directory named
by the digest of that identity: a block is served only when its bytes still hash to its name, so a damaged
or half-written file is fetched again. The cache is as trusted as the user's own files: it lives in their
cache directory, made private (0700), and a cache root that someone else owns or could write to is not
used at all. Files are written to a temporary name and renamed, so concurrent runs never see half a block.
The cache is pruned to ``max_bytes`` (least recently used first) when a stream is closed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path

_NAME = re.compile(r"(\d{1,12})-([0-9a-f]{64})")
_FOLDER = re.compile(r"[0-9a-f]{32}")


class DiskBlockCache:
    """The cached blocks of one source (see the module docstring)."""

    def __init__(self, root: Path, identity: str, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.folder = root / hashlib.sha256(identity.encode()).hexdigest()[:32]
        self._names: dict[int, str] | None = None

    @classmethod
    def open(cls, root: Path, identity: str, max_bytes: int) -> DiskBlockCache | None:
        """The cache under ``root`` (made 0700 if missing), or None when ``root`` is not a private
        directory of this user (a link, someone else's, or writable by others)."""
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = os.lstat(root)
        except OSError:
            return None
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
            return None
        return cls(root, identity, max_bytes)

    def _index(self) -> dict[int, str]:
        if self._names is None:
            self._names = {}
            try:
                entries = os.listdir(self.folder)
            except OSError:
                entries = []
            for entry in entries:
                match = _NAME.fullmatch(entry)
                if match:
                    self._names[int(match.group(1))] = entry
        return self._names

    def get(self, index: int) -> bytes | None:
        name = self._index().get(index)
        if name is None:
            return None
        try:
            fd = os.open(self.folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as handle:
                data = handle.read(64 << 20)
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != name.split("-", 1)[1]:
            return None
        with contextlib.suppress(OSError):
            os.utime(self.folder / name, follow_symlinks=False)  # recently used: pruned last
        return data

    def put(self, index: int, data: bytes) -> None:
        name = f"{index}-{hashlib.sha256(data).hexdigest()}"
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=".partial-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, self.folder / name)
        except OSError:
            return  # a cache that cannot be written only costs a fetch next time
        self._index()[index] = name

    def prune(self) -> None:
        """Remove the oldest blocks of every source until the cache holds at most ``max_bytes``."""
        files: list[tuple[float, int, Path]] = []
        try:
            folders = [
                entry
                for entry in self.root.iterdir()
                if _FOLDER.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink()
            ]
        except OSError:
            return
        for folder in folders:  # only the cache's own folders and files: the root may hold anything else
            try:
                for entry in os.scandir(folder):
                    ours = _NAME.fullmatch(entry.name) or entry.name.startswith(".partial-")
                    if ours and entry.is_file(follow_symlinks=False):
                        info = entry.stat(follow_symlinks=False)
                        files.append((info.st_mtime, info.st_size, Path(entry.path)))
            except OSError:
                continue
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            try:
                path.unlink()
            except OSError:
                continue
            total -= size
