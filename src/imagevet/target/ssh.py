"""A live host over SSH: files are read over SFTP through the same root-confined interface.

Connection settings follow the user's OpenSSH client configuration (``~/.ssh/config``: Host aliases,
HostName, User, Port, IdentityFile, UserKnownHostsFile), which asyncssh applies itself; ``--identity``
and ``--known-hosts`` override it. Host keys are always verified against known_hosts. Authentication is
by key or agent. With ``sudo``, files the login user may not read (``/etc/shadow``) are read with
``sudo -n cat``. Every network operation has a timeout, so a dead or stalled host fails, never hangs.
"""

from __future__ import annotations

import shlex
import stat
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from imagevet.errors import TargetError
from imagevet.model import TargetInfo, Unknown
from imagevet.target.confined import DIR, FILE, LINK, OTHER, ConfinedTarget, Node
from imagevet.target.walk import PendingWalk, WalkQuery, WalkResult

T = TypeVar("T")
DEFAULT_TIMEOUT = 20.0
WALK_TIMEOUT = 600.0  # seconds for the one find over the whole host (a million files take ~10 s here)


@dataclass(frozen=True)
class SshOptions:
    identity: str | None = None
    known_hosts: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    sudo: bool = False


@dataclass(frozen=True)
class SshSpec:
    user: str | None
    host: str
    port: int | None


def parse_ssh_spec(spec: str) -> SshSpec:
    """``ssh://[user@]host[:port]`` (IPv6 hosts in brackets)."""
    rest = spec.removeprefix("ssh://").rstrip("/")
    user, _, hostport = rest.rpartition("@")
    host, port_text = hostport, ""
    if hostport.startswith("["):
        host, _, tail = hostport[1:].partition("]")
        port_text = tail.removeprefix(":")
    elif hostport.count(":") == 1:
        host, _, port_text = hostport.partition(":")
    if not host:
        raise TargetError(f"{spec!r}: no host (expected ssh://[user@]host[:port])")
    if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
        raise TargetError(f"{spec!r}: invalid port {port_text!r}")
    return SshSpec(user or None, host, int(port_text) if port_text else None)


class SshTarget(ConfinedTarget):
    """Reads a live host's files over SFTP; each call runs on this target's own event loop."""

    def __init__(self, spec: str, options: SshOptions) -> None:
        super().__init__(TargetInfo(spec, "ssh"), live_host=True)
        self._options = options
        import asyncio  # here, not at import: local audits never pay for it

        self._loop = asyncio.new_event_loop()
        self._connection: Any = None
        self._sftp: Any = None
        self._nodes: dict[str, Node | None] = {}
        try:
            self._run(self._connect(parse_ssh_spec(spec)))
        except BaseException:
            self.close()
            raise

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        import asyncio

        return self._loop.run_until_complete(asyncio.wait_for(coroutine, self._options.timeout))

    async def _connect(self, spec: SshSpec) -> None:
        try:
            import asyncssh
        except ImportError as exc:
            raise TargetError("SSH targets need the ssh extra: pip install 'imagevet[ssh]'") from exc

        kwargs: dict[str, Any] = {
            "connect_timeout": self._options.timeout,
            "login_timeout": self._options.timeout,
        }
        if spec.user:
            kwargs["username"] = spec.user
        if spec.port:
            kwargs["port"] = spec.port
        if self._options.identity:
            kwargs["client_keys"] = [self._options.identity]
        if self._options.known_hosts:
            kwargs["known_hosts"] = self._options.known_hosts
        try:
            self._connection = await asyncssh.connect(spec.host, **kwargs)
            self._sftp = await self._connection.start_sftp_client()
        except asyncssh.HostKeyNotVerifiable as exc:
            raise TargetError(f"{self.info.path}: host key not verified against known_hosts ({exc})") from exc
        except asyncssh.PermissionDenied as exc:
            raise TargetError(f"{self.info.path}: authentication failed ({exc})") from exc
        except (TimeoutError, asyncssh.Error, OSError) as exc:
            raise TargetError(f"{self.info.path}: cannot connect ({exc or exc.__class__.__name__})") from exc

    # ---- primitives over SFTP ----------------------------------------------------------------------
    def _path(self, parts: list[str]) -> str:
        return "/" + "/".join(parts)

    def _sftp_call(self, method: str, *args: Any) -> Any:
        import asyncssh

        try:
            return self._run(getattr(self._sftp, method)(*args))
        except asyncssh.SFTPNoSuchFile:
            raise FileNotFoundError(args[0]) from None
        except asyncssh.SFTPPermissionDenied as exc:
            raise PermissionError(13, "Permission denied", args[0]) from exc
        except (TimeoutError, asyncssh.Error) as exc:
            raise OSError(f"SFTP {method} failed: {exc or exc.__class__.__name__}") from exc

    def _node(self, parts: list[str]) -> Node | None:
        # Each lookup is a network round trip, and path resolution asks about /etc, /etc/ssh … again and
        # again: remember the answers for this audit (the host is assumed not to change under it).
        key = self._path(parts)
        if key in self._nodes:
            return self._nodes[key]
        try:
            attrs = self._sftp_call("lstat", key)
        except FileNotFoundError:
            self._nodes[key] = None
            return None
        mode = attrs.permissions or 0
        owner = {
            "mode": stat.S_IMODE(mode),
            "uid": attrs.uid if attrs.uid is not None else -1,
            "gid": attrs.gid if attrs.gid is not None else -1,
        }
        if stat.S_ISLNK(mode):
            node = Node(LINK, **owner)
        elif stat.S_ISDIR(mode):
            node = Node(DIR, **owner)
        elif stat.S_ISREG(mode):
            node = Node(FILE, attrs.size or 0, **owner)
        else:
            node = Node(OTHER, **owner)
        self._nodes[key] = node
        return node

    def _link(self, parts: list[str]) -> str:
        return str(self._sftp_call("readlink", self._path(parts)))

    def _names(self, parts: list[str]) -> list[str]:
        return [name for name in self._sftp_call("listdir", self._path(parts)) if name not in (".", "..")]

    def _content(self, parts: list[str], path: str, max_bytes: int) -> bytes | Unknown:
        remote = self._path(parts)

        async def read() -> bytes:
            async with self._sftp.open(remote, "rb") as handle:
                data: bytes = await handle.read(max_bytes + 1)
                return data

        import asyncssh

        try:
            return self._run(read())
        except asyncssh.SFTPPermissionDenied:
            if not self._options.sudo:
                return Unknown(f"{path} is not readable by the login user (use --sudo)")
            return self._sudo_cat(remote, path, max_bytes)
        except (TimeoutError, asyncssh.Error, OSError) as exc:
            return Unknown(f"{path} cannot be read over SFTP: {exc or exc.__class__.__name__}")

    def _sudo_cat(self, remote: str, path: str, max_bytes: int) -> bytes | Unknown:
        import asyncssh

        command = f"sudo -n head -c {max_bytes + 1} -- {shlex.quote(remote)}"
        try:
            result = self._run(self._connection.run(command, encoding=None, check=False))
        except (TimeoutError, asyncssh.Error) as exc:
            return Unknown(f"{path}: sudo failed ({exc})")
        if result.exit_status != 0:
            return Unknown(f"{path}: sudo -n could not read it (exit {result.exit_status})")
        return bytes(result.stdout)

    def start_walk(self, query: WalkQuery) -> PendingWalk:
        """The walk as one find(1) on the host (sudo -n with --sudo), read as it streams: over SFTP it would
        be a round trip per file. The host's network mounts (its /proc/self/mounts) are left out."""
        from imagevet.target.walk import Deferred

        return Deferred(lambda: self._remote_walk(query))

    def _remote_walk(self, query: WalkQuery) -> WalkResult | Unknown:
        import asyncio

        import asyncssh

        from imagevet.target.walk_find import FindReader, find_arguments, remote_mounts

        text = self.read_text("/proc/self/mounts")
        mounts = remote_mounts(text) if isinstance(text, str) else ()
        command = shlex.join(["find", *find_arguments(query, "/", mounts)])
        if self._options.sudo:
            command = "sudo -n " + command
        reader = FindReader(query)

        async def walk() -> tuple[int, bytes]:
            async with self._connection.create_process(command, encoding=None) as process:
                while chunk := await process.stdout.read(1 << 20):
                    if not reader.feed(chunk):
                        process.kill()
                        break
                errors: bytes = await process.stderr.read(64 * 1024)
                await process.wait(check=False)
                status = process.exit_status  # None: killed by a signal, or no status came back
                return (-1 if status is None else int(status)), errors

        try:  # a whole host takes longer than one round trip: the walk has ten minutes of its own
            status, errors = self._loop.run_until_complete(asyncio.wait_for(walk(), WALK_TIMEOUT))
        except (TimeoutError, asyncssh.Error, OSError) as exc:
            why = str(exc) or exc.__class__.__name__
            if isinstance(exc, TimeoutError):
                why = f"not finished within {WALK_TIMEOUT:.0f} s"
            return Unknown(f"walking the host's files failed: {why}")
        return reader.finish(status, errors, live=True)

    def run(self, command: str) -> tuple[int, str] | Unknown:
        """Run a read-only query on the host (package manager views); (exit status, stdout)."""
        import asyncssh

        try:
            result = self._run(self._connection.run(command, check=False))
        except (asyncssh.Error, TimeoutError) as exc:
            return Unknown(
                f"running {command.split()[0]!r} on the host failed: {exc or exc.__class__.__name__}"
            )
        return int(result.exit_status or 0), str(result.stdout or "")

    def close(self) -> None:

        try:
            if self._sftp is not None:
                self._sftp.exit()
            if self._connection is not None:
                self._connection.close()
                import asyncio

                self._loop.run_until_complete(asyncio.wait_for(self._connection.wait_closed(), 5))
        except Exception:
            pass
        finally:
            self._loop.close()
            super().close()
