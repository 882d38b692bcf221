"""End to end over real HTTP: `imagevet token create`, `imagevet serve` on 127.0.0.1 (uvicorn), and
`imagevet push` of the CLI's own audit report; a restart keeps what was committed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.cli import run_imagevet


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(url: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "imagevet", "serve", "--database-url", url, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1).close()
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


def test_token_serve_push_and_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    write = run_imagevet("token", "create", "--scope", "write", "--database-url", url, env=env).stdout.strip()
    read = run_imagevet("token", "create", "--scope", "read", "--database-url", url, env=env).stdout.strip()
    assert write.startswith("ivt_") and read.startswith("ivt_") and write != read
    assert write not in (tmp_path / "inventory.sqlite3").read_bytes().decode(
        "latin-1"
    )  # stored as digest only
    report = tmp_path / "audit.json"
    report.write_text(json.dumps({"schema": "imagevet/audit/v1", "summary": {"pass": 3, "fail": 1}}))
    with server(url, env) as base:
        pushed = run_imagevet(
            "push",
            str(report),
            "--server",
            base,
            "--token",
            write,
            "--image-id",
            "ami-0a1b2c3d4e5f60001",
            "--cloud",
            "aws",
            "--register",
            env=env,
        )
        assert pushed.returncode == 0 and "pushed imagevet/audit/v1" in pushed.stdout, pushed.stderr
        denied = run_imagevet(
            "push",
            str(report),
            "--server",
            base,
            "--token",
            read,
            "--image-id",
            "ami-0a1b2c3d4e5f60001",
            env=env,
        )
        assert denied.returncode == 2 and "HTTP 403" in denied.stderr
        unknown = run_imagevet(
            "push", str(report), "--server", base, "--token", write, "--image-id", "ami-y", env=env
        )
        assert unknown.returncode == 2 and "not registered" in unknown.stderr
    with server(url, env) as base:  # a restart loses nothing committed
        images = get(base, "/api/v1/images", read)
        assert isinstance(images, list) and images[0]["image_id"] == "ami-0a1b2c3d4e5f60001"
        detail = get(base, f"/api/v1/images/{images[0]['id']}", read)
        assert isinstance(detail, dict) and detail["audit"] == {"pass": 3, "fail": 1}
    down = run_imagevet(
        "push", str(report), "--server", "http://127.0.0.1:9", "--token", write, "--image-id", "x"
    )
    assert (
        down.returncode == 2 and "cannot reach" in down.stderr and len(down.stderr.strip().splitlines()) == 1
    )
