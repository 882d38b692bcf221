"""`imagevet token create|list|revoke`, and bad input to the service commands: a revoked token stops
working at once; a database or an address that cannot be used is one line and exit 2 (password hidden)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from imagevet.service.app import create_app
from imagevet.service.db import make_engine, sessions
from tests.support.cli import run_imagevet


def test_tokens_are_listed_without_secrets_and_revoked_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    ci = run_imagevet("token", "create", "--scope", "write", "--name", "ci", "--database-url", url, env=env)
    reader = run_imagevet("token", "create", "--scope", "read", "--database-url", url, env=env)
    ci_token, read_token = ci.stdout.strip(), reader.stdout.strip()
    listed = run_imagevet("token", "list", "--database-url", url, "-f", "json", env=env)
    tokens = json.loads(listed.stdout)["tokens"]
    assert [(t["id"], t["scope"], t["name"]) for t in tokens] == [(1, "write", "ci"), (2, "read", "")]
    assert ci_token not in listed.stdout and read_token not in listed.stdout
    table = run_imagevet("token", "list", "--database-url", url, env=env).stdout
    assert "write" in table and "ci" in table and ci_token not in table

    client = TestClient(create_app(sessions(make_engine(url)), lambda: None))
    headers = {"Authorization": f"Bearer {ci_token}"}
    assert client.get("/api/v1/images", headers=headers).status_code == 200
    revoked = run_imagevet("token", "revoke", "1", "--database-url", url, env=env)
    assert revoked.returncode == 0 and "revoked token 1 (write, ci)" in revoked.stderr
    assert client.get("/api/v1/images", headers=headers).status_code == 401
    assert client.get("/api/v1/images", headers={"Authorization": f"Bearer {read_token}"}).status_code == 200
    again = run_imagevet("token", "revoke", "1", "--database-url", url, env=env)
    assert again.returncode == 2 and "no token with id 1" in again.stderr


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("not a url", "is not a database URL"),
        ("foo://somewhere/x", "unsupported database"),
        ("sqlite:////nonexistent-dir/inventory.sqlite3", "unable to open database file"),
        ("postgresql+psycopg://imagevet:s3cret@127.0.0.1:1/inventory", "Connection refused"),
    ],
)
@pytest.mark.parametrize("command", [["token", "create", "--scope", "read"], ["token", "list"], ["serve"]])
def test_an_unusable_database_is_one_line(command: list[str], url: str, words: str) -> None:
    result = run_imagevet(*command, "--database-url", url)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "s3cret" not in lines[0], lines


def test_serve_on_an_address_it_cannot_use_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_imagevet("serve", "--database-url", url, "--port", str(port))
    assert busy.returncode == 2 and busy.stderr.strip() == (
        f"imagevet: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    unknown = run_imagevet("serve", "--database-url", url, "--host", "no-such-host.invalid")
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1
