"""find(1) run on this machine over a directory tree, as a PendingWalk (target/walk_find.py builds the
command and reads what it prints). Started at once with posix_spawn (no subprocess or tempfile import,
no fork of this process's memory: a few milliseconds of an audit that takes a hundred), waited for when
the checks first ask. Its standard output is read as it comes; its error output is kept up to
MAX_ERROR_BYTES (a walk that says anything there is not trusted anyway)."""

from __future__ import annotations

import os
import selectors

from imagevet.model import Unknown
from imagevet.target.walk import WalkQuery, WalkResult
from imagevet.target.walk_find import FindReader, find_arguments

MAX_ERROR_BYTES = 64 * 1024
FIND_PROGRAMS = ("/usr/bin/find", "/bin/find")


class FindWalk:
    def __init__(self, root: str, query: WalkQuery, mounts: tuple[str, ...], live: bool) -> None:
        self._live = live
        self._query = query
        self._outcome: WalkResult | Unknown | None = None
        self._pid = 0
        find = next((path for path in FIND_PROGRAMS if os.access(path, os.X_OK)), None)
        if find is None:
            self._outcome = Unknown("find(1) is not installed on this machine (Debian: findutils)")
            return
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        try:
            self._pid = os.posix_spawn(
                find,
                [find, *find_arguments(query, root, mounts)],
                {"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, out_write, 1),
                    (os.POSIX_SPAWN_DUP2, err_write, 2),
                    (os.POSIX_SPAWN_CLOSE, out_read),
                    (os.POSIX_SPAWN_CLOSE, err_read),
                ],
            )
        except OSError as exc:
            os.close(out_read)
            os.close(err_read)
            self._outcome = Unknown(f"find(1) could not be started: {exc.strerror or exc}")
            return
        finally:
            os.close(out_write)
            os.close(err_write)
        self._out, self._err = out_read, err_read

    def result(self) -> WalkResult | Unknown:
        if self._outcome is None:
            self._outcome = self._collect()
        return self._outcome

    def _collect(self) -> WalkResult | Unknown:
        reader = FindReader(self._query)
        errors = bytearray()
        selector = selectors.DefaultSelector()
        selector.register(self._out, selectors.EVENT_READ)
        selector.register(self._err, selectors.EVENT_READ)
        stopped = False
        try:
            while selector.get_map():
                for key, _ in selector.select():
                    chunk = os.read(key.fd, 1 << 20)
                    if not chunk:
                        selector.unregister(key.fd)
                    elif key.fd == self._err:
                        errors += chunk[: max(0, MAX_ERROR_BYTES - len(errors))]
                    elif not stopped and not reader.feed(chunk):
                        stopped = True
                        os.kill(self._pid, 9)
        finally:
            selector.close()
            os.close(self._out)
            os.close(self._err)
        _, wait_status = os.waitpid(self._pid, 0)
        status = os.waitstatus_to_exitcode(wait_status)
        return reader.finish(status, bytes(errors), self._live)

    def __del__(self) -> None:
        """A walk never asked for (an audit that stopped early) leaves no child behind."""
        if self._outcome is None and self._pid:
            try:
                os.kill(self._pid, 9)
                os.waitpid(self._pid, 0)
            except OSError:
                pass
