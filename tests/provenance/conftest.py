"""A real EC2 API peer: moto's standalone server on 127.0.0.1, seeded with official-owner AMIs
(MOTO_AMIS_PATH) and, per test, lookalikes registered through the API by the caller's own account."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import AS_OF_DAY
from tests.support.moto import aws_environment, free_port, start_moto

__all__ = ["NOW", "SEED", "aws_env", "free_port", "moto_endpoint"]

NOW = dt.datetime.combine(AS_OF_DAY, dt.time(), dt.UTC)  # the tests' as-of day, at midnight UTC

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


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_moto(tmp_path_factory.mktemp("moto"), SEED) as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Environment for boto3 (in this process and in CLI subprocesses) pointed at the moto server."""
    values = aws_environment(moto_endpoint, tmp_path)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **values}
