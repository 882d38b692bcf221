"""Writing what imagevet produces to a path the user named, without ever destroying what was there.

``-o report.json`` must behave like a careful ``>``: a regular file is replaced whole or not at all (the new
content goes to a temporary file beside it, which is then renamed over it, so a failed run leaves the old
report); a character device, FIFO or socket (``/dev/null``, ``/dev/stdout``, a named pipe a CI step reads)
is opened and written as it is, never replaced by a file; a directory or a block device is refused. A
symbolic link is followed, and what it points at is written: the link stays. New files get mode 0644 minus
the umask (0755 for scripts); a replaced file keeps its mode. Only private keys are 0600, elsewhere.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from imagevet.errors import ImagevetError

STDOUT = "-"


class OutputError(ImagevetError):
    """The output path cannot be written as asked (a directory, a block device, a missing directory)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def destination(path: Path) -> str:
    """What writing to ``path`` would do: ``replace`` (a regular file), ``create``, ``stream`` (a device,
    FIFO or socket); OutputError when it must not be written. Checked before the work starts, so a wrong
    ``-o`` costs nothing; checked again when writing."""
    try:
        info = os.stat(path)  # follows links: the link's target is what gets written
    except FileNotFoundError:
        real = Path(os.path.realpath(path))
        if not real.parent.is_dir():
            raise OutputError(f"--output directory {str(real.parent)!r} does not exist") from None
        return "create"
    except OSError as exc:
        raise OutputError(f"--output {str(path)!r}: {exc.strerror}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"--output {str(path)!r} is a directory")
    if stat.S_ISREG(info.st_mode):
        return "replace"
    if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode):
        return "stream"
    raise OutputError(f"--output {str(path)!r} is a block device or another special file; not writing to it")


def write_text(path: Path, text: str | bytes, mode: int = 0o644) -> None:
    """Write ``text`` (UTF-8; bytes are taken as UTF-8 already) to ``path`` as the module docstring
    describes; ``mode`` for a new file."""
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    kind = destination(path)
    try:
        if kind == "stream":
            _stream(path, data)
        else:
            _replace(Path(os.path.realpath(path)), data, mode, keep_mode=kind == "replace")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _stream(path: Path, data: bytes) -> None:
    if stat.S_ISSOCK(os.stat(path).st_mode):
        import socket  # only for this rare case: the CLI starts without it

        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(str(path))
            sock.sendall(data)
        return
    with open(path, "wb") as handle:  # a device or FIFO: opened as is, as a shell's '>' would
        handle.write(data)


def _replace(real: Path, data: bytes, mode: int, keep_mode: bool) -> None:
    import tempfile  # only when writing a file

    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", dir=real.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        final = stat.S_IMODE(os.stat(real).st_mode) if keep_mode else mode & ~_umask()
        os.chmod(tmp, final)
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
