"""Databases for the service tests: SQLite files, and a real PostgreSQL 15 cluster from Debian's
packages (started once per session). Tests that take `database_url` run on both."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.api import Api, make_api
from tests.support import postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    if not postgres.available():
        pytest.skip("PostgreSQL from Debian's packages is not installed (or not root)")
    with postgres.cluster(Path(tempfile.mkdtemp(prefix="imagevet-pg-"))) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """The session's PostgreSQL database, emptied: a fresh schema per test."""
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_server)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return postgres_server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
        return
    yield request.getfixturevalue("postgres_url")


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """The API in-process on each database, with a token of each scope (tests/service/api.py)."""
    yield make_api(database_url)
