"""The inventory database on SQLite and PostgreSQL: the migrations make exactly the models' schema and
upgrade a database with data in place; concurrent writers of one image lose and duplicate nothing."""

from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from imagevet.service.db import Base, Finding, make_engine, sessions
from imagevet.service.migrate import upgrade
from tests.service.api import make_api


def test_migrations_match_the_models(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)  # a second run is a no-op
    engine = make_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrations_upgrade_an_existing_database(database_url: str) -> None:
    """A database made at the first revision, with data, is upgraded in place and keeps its rows."""
    from sqlalchemy import inspect, text

    upgrade(database_url, "0001")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO image_versions (cloud, image_id, release, layer, name, remediation, created_at) "
            "VALUES ('aws', 'ami-kept', 'debian-12', '', '', 'open', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    assert "ix_reports_image_schema" not in {i["name"] for i in inspect(engine).get_indexes("reports")}
    engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    assert "ix_reports_image_schema" in {i["name"] for i in inspect(engine).get_indexes("reports")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT image_id FROM image_versions")).scalars().all() == ["ami-kept"]


def test_concurrent_writers_lose_and_duplicate_nothing(database_url: str) -> None:
    api = make_api(database_url, raise_errors=False)  # a server error must show up as a status, not vanish
    image = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-c"}).json()["id"]
    errors: list[int] = []

    def writer(number: int) -> None:
        document = {
            "schema": "imagevet/vuln/v1",
            "findings": [
                {"id": f"DSA-{number}-1", "aliases": [], "package": "p", "severity": "low"},
                {"id": "DSA-SHARED-1", "aliases": [], "package": "p", "severity": "low"},
            ],
        }
        response = api.call("POST", f"/api/v1/images/{image}/reports", json=document)
        if response.status_code != 201:
            errors.append(response.status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reports = api.call("GET", f"/api/v1/images/{image}/reports", scope="read").json()
    assert errors == [] and len(reports) == 8
    engine = make_engine(database_url)
    with sessions(engine)() as session:
        ids = session.scalars(select(Finding.vuln_id).where(Finding.image_version_id == image)).all()
        total = session.scalar(select(func.count()).select_from(Finding))
    assert sorted(set(ids)) == sorted(ids) and total == len(ids)
    assert "DSA-SHARED-1" in ids and len(ids) == len(reports) + 1
