"""A target over a directory holding an image's root filesystem (or ``/`` for the running host).

Path resolution is done here, one component at a time, instead of by the kernel: a symlink's target is
interpreted relative to the *image* root (absolute links are re-rooted, ``..`` stops at the root), so a
hostile image cannot make us read the host's files. The final open uses ``O_NOFOLLOW`` and
``O_NONBLOCK`` and insists on a regular file, so a FIFO or device node cannot hang or feed the reader.
The image is assumed not to change while it is audited (it is a build artefact, not a live attacker).
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat

from imagevet.errors import TargetError
from imagevet.model import TargetInfo, Unknown
from imagevet.target.base import MAX_READ_BYTES

# Linux gives up after 40 links in one lookup (ELOOP); we do the same.
MAX_SYMLINK_HOPS = 40


def _split(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


class RootfsTarget:
    """A read-only, root-confined view of a directory tree."""

    def __init__(self, root: str, *, live_host: bool = False, kind: str = "rootfs") -> None:
        real = os.path.realpath(root)
        if not os.path.isdir(real):
            raise TargetError(f"target {root!r} is not a directory")
        self._root = real.rstrip("/") or "/"
        self._live = live_host
        self._info = TargetInfo(path=root, kind=kind)

    @property
    def info(self) -> TargetInfo:
        return self._info

    @property
    def is_live_host(self) -> bool:
        return self._live

    def _host(self, parts: list[str]) -> str:
        if self._root == "/":
            return "/" + "/".join(parts)
        return self._root + ("/" + "/".join(parts) if parts else "")

    def _resolve(self, path: str) -> list[str] | Unknown:
        """Resolve ``path`` to its components inside the image, following links inside the image."""
        pending = _split(path)
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
            host = self._host(candidate)
            try:
                st = os.lstat(host)
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                    missing = "/" + "/".join(candidate)
                    via = "" if hops == 0 else f" (following links, {missing} is missing)"
                    return Unknown(f"{path} does not exist in the image{via}")
                return Unknown(f"/{'/'.join(candidate)} cannot be examined: {exc.strerror}")
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return Unknown(f"{path} has too many levels of symbolic links (a link loop)")
                try:
                    link = os.readlink(host)
                except OSError as exc:
                    return Unknown(f"/{'/'.join(candidate)} is an unreadable link: {exc.strerror}")
                if link.startswith("/"):
                    done = []
                rest = _split(link)
                rest.reverse()
                pending.extend(rest)
                continue
            if pending and not stat.S_ISDIR(st.st_mode):
                return Unknown(f"/{'/'.join(candidate)} is not a directory")
            done = candidate
        return done

    def canonical(self, path: str) -> str | Unknown:
        parts = self._resolve(path)
        if isinstance(parts, Unknown):
            return parts
        return "/" + "/".join(parts)

    def host_path(self, path: str) -> str | Unknown:
        parts = self._resolve(path)
        if isinstance(parts, Unknown):
            return parts
        host = self._host(parts)
        try:
            st = os.lstat(host)
        except OSError as exc:
            return Unknown(f"{path} cannot be examined: {exc.strerror}")
        if not stat.S_ISREG(st.st_mode):
            return Unknown(f"{path} is not a regular file")
        return host

    def readlink(self, path: str) -> str | None:
        parts = _split(path)
        if not parts or parts[-1] == "..":
            return None
        parent = self._resolve("/".join(parts[:-1]))
        if isinstance(parent, Unknown):
            return None
        try:
            return os.readlink(self._host([*parent, parts[-1]]))
        except OSError:
            return None

    def read_bytes(self, path: str, max_bytes: int = MAX_READ_BYTES) -> bytes | Unknown:
        parts = self._resolve(path)
        if isinstance(parts, Unknown):
            return parts
        host = self._host(parts)
        try:
            fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            return Unknown(f"{path} cannot be opened: {exc.strerror}")
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return Unknown(f"{path} is not a regular file")
            chunks: list[bytes] = []
            size = 0
            while size <= max_bytes:
                chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > max_bytes:
                return Unknown(f"{path} is larger than the {max_bytes} byte limit")
            return b"".join(chunks)
        except OSError as exc:
            return Unknown(f"{path} cannot be read: {exc.strerror}")
        finally:
            os.close(fd)

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
        host = self._host(parts)
        try:
            return sorted(os.listdir(host))
        except NotADirectoryError:
            return Unknown(f"{path} is not a directory")
        except OSError as exc:
            return Unknown(f"{path} cannot be listed: {exc.strerror}")

    def _stat(self, path: str) -> os.stat_result | None:
        parts = self._resolve(path)
        if isinstance(parts, Unknown):
            return None
        try:
            return os.lstat(self._host(parts))
        except OSError:
            return None

    def is_file(self, path: str) -> bool:
        st = self._stat(path)
        return st is not None and stat.S_ISREG(st.st_mode)

    def is_dir(self, path: str) -> bool:
        st = self._stat(path)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def exists(self, path: str) -> bool:
        return self._stat(path) is not None

    def glob(self, pattern: str) -> list[str]:
        """Expand a glob like glob(3) with sorted results; every directory step is root-confined."""
        matches = [""]
        for part in _split(pattern):
            following: list[str] = []
            for prefix in matches:
                if not fnmatch_has_magic(part):
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


def fnmatch_has_magic(part: str) -> bool:
    return any(ch in part for ch in "*?[")
