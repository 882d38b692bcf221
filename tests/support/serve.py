"""A real `imagevet serve` (uvicorn on 127.0.0.1, a free port) for end-to-end tests."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.cli import IMAGEVET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    base: str
    proc: subprocess.Popen[str]
    stderr: Path  # the server's stderr so far (a file: a pipe nobody reads would fill and stall it)

    def log(self) -> str:
        return self.stderr.read_text(errors="replace")


@contextmanager
def serving(
    url: str, env: dict[str, str], extra: tuple[str, ...] = (), context: ssl.SSLContext | None = None
) -> Iterator[Served]:
    """`imagevet serve` on a free port, once /health answers: its base URL, its process (for tests that
    signal it) and its stderr. Terminated (SIGTERM) afterwards if still running."""
    port = free_port()
    scratch = tempfile.TemporaryDirectory(prefix="imagevet-serve-log-")
    stderr = Path(scratch.name) / "stderr"
    with stderr.open("w") as sink:
        proc = subprocess.Popen(
            [*IMAGEVET, "serve", "--database-url", url, "--port", str(port), *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
        )
    served = Served(f"{'https' if context else 'http'}://127.0.0.1:{port}", proc, stderr)
    base = served.base
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1, context=context).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(f"serve exited: {served.log()}") from None
                time.sleep(0.1)
        yield served
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        scratch.cleanup()


@contextmanager
def server(
    url: str, env: dict[str, str], extra: tuple[str, ...] = (), context: ssl.SSLContext | None = None
) -> Iterator[str]:
    """`imagevet serve` on a free port, yielding its base URL once /health answers. ``extra``: more
    serve options; ``context``: the client TLS context, given when ``extra`` turns HTTPS on."""
    with serving(url, env, extra, context) as served:
        yield served.base


def get(base: str, path: str, token: str) -> object:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())
