"""End to end over real HTTP: `imagevet token create`, `imagevet serve` on 127.0.0.1 (uvicorn), and
`imagevet push` of the CLI's own audit report; a restart keeps what was committed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.support.cli import run_imagevet
from tests.support.serve import get, server


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
