"""A TCP "host" that accepts connections and never says a word (a tarpit): what a stalled server or a
black-holed proxy looks like to an SSH client. Audit jobs against it run until their own timeout, so the
service's job limits, cancellation and shutdown can be tested against a job that is really running."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def tarpit() -> Iterator[int]:
    """Yields the port on 127.0.0.1; closing it (leaving the block) drops every held connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)  # so the accepting thread notices the end promptly
    held: list[socket.socket] = []
    closed = threading.Event()

    def accept() -> None:
        while not closed.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        closed.set()
        thread.join(timeout=5)
        listener.close()
        for connection in held:
            connection.close()
