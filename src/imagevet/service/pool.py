"""The in-process job runner: a few daemon threads taking job ids from a queue.

Daemon threads, not a ThreadPoolExecutor (whose threads the interpreter joins at exit): a server told to
stop hands its running jobs back (service/jobs.py) and must then exit, not wait for an abandoned attempt
that is still blocked in a read. Ids not yet taken are simply dropped at close: their rows stay
``queued`` and the next start runs them."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("imagevet.service.jobs")


class JobPool:
    def __init__(self, size: int, run: Callable[[str], object], name: str = "imagevet-jobs") -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._run = run
        self._threads = [
            threading.Thread(target=self._loop, name=f"{name}-{n}", daemon=True) for n in range(size)
        ]
        self._closed = threading.Event()
        for thread in self._threads:
            thread.start()

    def submit(self, job_id: str) -> None:
        if not self._closed.is_set():
            self._queue.put(job_id)

    def _loop(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None or self._closed.is_set():
                return
            try:
                self._run(job_id)
            except Exception:  # the database went away mid-job: the row says what it can; keep serving
                log.exception("job %s could not be run", job_id)

    def close(self, timeout: float) -> None:
        """Stop taking jobs and wait up to ``timeout`` seconds for the running ones to return."""
        self._closed.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
