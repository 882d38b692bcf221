"""The ``imagevet`` process: ``main()`` with the start-up and the shut-down an interpreter need not pay.

A default audit is over in about a quarter of a second, and two costs of that are the interpreter's, not
the audit's (issue 19; numbers in docs/benchmarks.md):

- **the cycle collector during start-up**: importing ~240 modules allocates hundreds of thousands of
  objects, and at CPython's default threshold (a young collection every 700 allocations) the collector
  walks them again and again, though a start-up makes almost no garbage cycles. A higher first
  threshold lets it run a few times instead of a few hundred; the memory it can leave waiting is bounded by
  the threshold (a few MB at most).
- **tearing the interpreter down**: at exit CPython clears every module and frees every object one by
  one, about 20 ms after the run's result is already written. The process ends instead as soon as the exit
  handlers have run and the standard streams are flushed, as ``os._exit`` does. This is only done when
  nothing else is running: with another thread alive (a server, a pool still draining), the exit is
  Python's own, which waits for them.

Only the console script and ``python -m imagevet`` come through here; ``main()`` called in-process (the
tests, a library user) exits as every Python function does.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import gc
import io
import os
import sys
from typing import NoReturn, TextIO

YOUNG_THRESHOLD = 50_000  # CPython's default is 700


class ClosedStream(io.TextIOBase):
    """Standing in for stdout or stderr when the process started with it closed (``>&-``), where Python
    leaves None: writing to it fails as writing to a closed descriptor does, so a run that must print
    ends with exit 2 and the reason, and one that writes ``-o FILE`` is not disturbed."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    def isatty(self) -> bool:
        return False


class Diagnostics(io.TextIOBase):
    """stderr, where what cannot be written is dropped: a full disk or a closed descriptor there
    (``2>/dev/full``, ``2>&-``) must not turn a refusal's exit 2 into a traceback's 1, nor a verdict into
    another. The channel that would carry the complaint is the one that failed, so the exit status is
    what is left to say it; stdout's failures still fail the run (cli/common.write_output)."""

    def __init__(self, stream: TextIO | io.TextIOBase) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError, ValueError):  # ValueError: the stream was closed
            self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # TextIOBase's is a read-only attribute too
        return str(getattr(self._stream, "encoding", None) or "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)

    def __getattr__(self, name: str) -> object:  # buffer, reconfigure ...: the stream's own
        return getattr(self._stream, name)


def _stopped_early(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM before main() has put its own handler in place (while the CLI is imported): no
    traceback and nothing made yet to clean up, so the process ends at once, saying so as main() does."""
    said = "terminated" if signum == 15 else "interrupted"
    with contextlib.suppress(OSError):
        os.write(2, f"imagevet: {said}\n".encode())
    os._exit(128 + signum)


def run() -> NoReturn:
    """The console script's entry point."""
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM):  # main() replaces these; ignored signals stay ignored
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stopped_early)
    if sys.stdout is None:
        sys.stdout = ClosedStream()
    sys.stderr = Diagnostics(ClosedStream() if sys.stderr is None else sys.stderr)
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
    from imagevet.cli import main

    try:
        main()
        code: object = 0
    except SystemExit as stop:
        code = stop.code
    leave(code)


def leave(code: object) -> NoReturn:
    """End the process with ``code`` as ``sys.exit(code)`` would: None is 0, an int is itself, anything
    else is printed to stderr and is 1. The streams are flushed first; a flush that fails makes a
    successful run exit 1 with the reason (a closed pipe: no message, as ``main`` does for a broken pipe)."""
    _default_signals()
    threading = sys.modules.get("threading")  # never imported: no other thread was started through it
    if threading is not None and threading.active_count() > 1:
        sys.exit(code)  # type: ignore[arg-type]  # Python's own exit: it waits for the other threads
    status = _status(code)
    atexit._run_exitfuncs()  # what Python runs at exit; os._exit would skip them
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # closed when the process started (`>&-`)
            continue
        try:
            stream.flush()
        except BrokenPipeError:
            status = status or 1
        except (OSError, ValueError) as exc:
            if not status:  # a failed run has said why already (often this very write)
                status = 1
                _say(f"imagevet: cannot write the output: {exc}")
    os._exit(status)


def _default_signals() -> None:
    """From here on Ctrl-C or SIGTERM ends the process as the signal does (130, 143), not with a
    traceback from main()'s handler raised after main() has returned; ignored signals stay ignored."""
    signal = sys.modules.get("signal")
    if signal is None:
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)


def _status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):  # as the process's status: the low 8 bits (True is 1)
        return code & 0xFF
    _say(str(code))
    return 1


def _say(line: str) -> None:
    if sys.stderr is None:
        return
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
