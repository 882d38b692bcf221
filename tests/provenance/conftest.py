"""A real EC2 API peer: moto's standalone server on 127.0.0.1, seeded with official-owner AMIs
(MOTO_AMIS_PATH) and, per test, lookalikes registered through the API by the caller's own account."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

SEED = [
    {
        "ami_id": "ami-0a1b2c3d4e5f60001",
        "name": "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240101",
        "description": "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-01-01",
        "owner_id": "099720109477",
        "public": True,
        "virtualization_type": "hvm",
        "architecture": "x86_64",
        "state": "available",
        "root_device_type": "ebs",
        "creation_date": "2024-01-01T00:00:00.000Z",
    },
    {
        "ami_id": "ami-0a1b2c3d4e5f60002",
        "name": "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20261101",
        "description": "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2026-11-01",
        "owner_id": "099720109477",
        "public": True,
        "virtualization_type": "hvm",
        "architecture": "x86_64",
        "state": "available",
        "root_device_type": "ebs",
        "creation_date": "2026-11-01T00:00:00.000Z",
    },
    {
        "ami_id": "ami-0a1b2c3d4e5f60003",
        "name": "debian-12-amd64-20261010-1900",
        "description": "Debian 12 (20261010-1900)",
        "owner_id": "136693071363",
        "public": True,
        "virtualization_type": "hvm",
        "architecture": "x86_64",
        "state": "available",
        "root_device_type": "ebs",
        "creation_date": "2026-10-10T19:00:00.000Z",
    },
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("moto")
    seed = folder / "amis.json"
    seed.write_text(json.dumps(SEED))
    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    env = {**os.environ, "MOTO_AMIS_PATH": str(seed)}
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "moto.log").open("w"),
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"moto_server did not start: {(folder / 'moto.log').read_text()[-500:]}")
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Environment for boto3 (in this process and in CLI subprocesses) pointed at the moto server."""
    values = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **values}
