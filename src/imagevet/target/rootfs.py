"""A target over a directory holding an image's root filesystem (or ``/`` for the running host).

Resolution is ConfinedTarget's (inside the image, never the host's). The final open uses ``O_NOFOLLOW``
and ``O_NONBLOCK`` and insists on a regular file, so a FIFO or device node cannot hang or feed the reader.
The image is assumed not to change while it is audited (it is a build artefact, not a live attacker).
"""

from __future__ import annotations

import errno
import os
import stat

from imagevet.errors import TargetError
from imagevet.model import TargetInfo, Unknown
from imagevet.target.confined import DIR, FILE, LINK, OTHER, ConfinedTarget, Node
from imagevet.target.walk import PendingWalk, WalkQuery
from imagevet.target.walk_local import FindWalk


class RootfsTarget(ConfinedTarget):
    """A read-only, root-confined view of a directory tree."""

    def __init__(self, root: str, *, live_host: bool = False, kind: str = "rootfs") -> None:
        real = os.path.realpath(root)
        if not os.path.isdir(real):
            raise TargetError(f"target {root!r} is not a directory")
        super().__init__(TargetInfo(path=root, kind=kind), live_host)
        self._root = real.rstrip("/") or "/"

    def _host(self, parts: list[str]) -> str:
        if self._root == "/":
            return "/" + "/".join(parts)
        return self._root + ("/" + "/".join(parts) if parts else "")

    def _node(self, parts: list[str]) -> Node | None:
        try:
            st = os.lstat(self._host(parts))
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise
        owner = {"mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}
        if stat.S_ISLNK(st.st_mode):
            return Node(LINK, **owner)
        if stat.S_ISDIR(st.st_mode):
            return Node(DIR, **owner)
        if stat.S_ISREG(st.st_mode):
            return Node(FILE, st.st_size, **owner)
        return Node(OTHER, **owner)

    def _link(self, parts: list[str]) -> str:
        return os.readlink(self._host(parts))

    def _names(self, parts: list[str]) -> list[str]:
        return os.listdir(self._host(parts))

    def _content(self, parts: list[str], path: str, max_bytes: int) -> bytes | Unknown:
        try:
            fd = os.open(self._host(parts), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            return Unknown(f"{path} cannot be opened: {exc.strerror}")
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return Unknown(f"{path} is not a regular file")
            chunks: list[bytes] = []
            size = 0
            while size <= max_bytes:
                chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            return b"".join(chunks)
        except OSError as exc:
            return Unknown(f"{path} cannot be read: {exc.strerror}")
        finally:
            os.close(fd)

    def start_walk(self, query: WalkQuery) -> PendingWalk:
        """find(1) over the tree, started now in a child process (target/walk_find.py): it runs on the other
        core while the audit reads the rest. A live host leaves out its network mounts."""
        from imagevet.target.walk_find import remote_mounts

        mounts: tuple[str, ...] = ()
        if self.is_live_host:
            text = self.read_text("/proc/self/mounts")
            mounts = remote_mounts(text) if isinstance(text, str) else ()
        return FindWalk(self._root, query, mounts, self.is_live_host)

    def run(self, command: str) -> tuple[int, str] | Unknown:
        """Run a read-only query on this machine (only when the target is the live host, '/')."""
        import subprocess

        if not self.is_live_host:
            return Unknown("commands run only on a live host")
        try:
            proc = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Unknown(f"running {command.split()[0]!r} failed: {exc}")
        return proc.returncode, proc.stdout

    def host_path(self, path: str) -> str | Unknown:
        parts = self._resolve(path)
        if isinstance(parts, Unknown):
            return parts
        node = self._node(parts)
        if node is None or node.kind != FILE:
            return Unknown(f"{path} is not a regular file")
        return self._host(parts)
