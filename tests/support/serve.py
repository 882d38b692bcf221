"""A real `imagevet serve` (uvicorn on 127.0.0.1, a free port) for end-to-end tests."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(
    url: str, env: dict[str, str], extra: tuple[str, ...] = (), context: ssl.SSLContext | None = None
) -> Iterator[str]:
    """`imagevet serve` on a free port, yielding its base URL once /health answers. ``extra``: more
    serve options; ``context``: the client TLS context, given when ``extra`` turns HTTPS on."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagevet", "serve", "--database-url", url, "--port", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"{'https' if context else 'http'}://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1, context=context).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(
                        f"serve exited: {proc.stderr.read() if proc.stderr else ''}"
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def get(base: str, path: str, token: str) -> object:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())
