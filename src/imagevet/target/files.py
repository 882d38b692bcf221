"""Opening the files of an image without being led elsewhere.

Every image file imagevet opens (an archive the user names, a file inside an OCI layout, a VMDK extent
beside its descriptor) is opened read-only, without blocking (a FIFO in place of a file would otherwise
hang the open), without following a final symbolic link unless the user named the path, and refused unless
it is a regular file.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import IO

from imagevet.errors import TargetError

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def open_regular(name: str, what: str, dir_fd: int | None = None, follow: bool = False) -> IO[bytes]:
    """Open a regular file read-only without blocking (a FIFO would hang) and, unless ``follow``, without
    following a final symbolic link; anything else is refused."""
    flags = _OPEN_FLAGS & ~os.O_NOFOLLOW if follow else _OPEN_FLAGS
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise TargetError(f"{what} is missing") from exc
        if exc.errno == errno.ELOOP:
            raise TargetError(f"{what} is a symbolic link; only regular files are read") from exc
        raise TargetError(f"{what} cannot be opened ({exc.strerror})") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise TargetError(f"{what} is not a regular file")
    handle = os.fdopen(fd, "rb")
    handle.raw.name = name  # type: ignore[attr-defined]  # libraries that log or derive paths see the name
    return handle
