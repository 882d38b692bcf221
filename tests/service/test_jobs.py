"""The job runner (service/jobs.py) when writers race it: a rescan whose findings another writer inserts
first (a concurrent rescan, an audit, a pushed report) runs again and finishes, on SQLite and PostgreSQL.

The race is forced, not hoped for: after the rescan has read the image's findings and added its own, a
second session inserts and commits the same finding before the rescan commits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from imagevet.catalog.loader import bundled_catalog
from imagevet.service import rescan
from imagevet.service.db import Finding, Job, make_engine, sessions
from imagevet.service.jobs import JobContext, run_job
from imagevet.service.records import record_matches
from imagevet.vuln.db import thread_lookup
from tests.conftest import FIXTURES
from tests.service.api import PACKAGES, make_api
from tests.service.test_audit_jobs import advisory_db
from tests.support.advisories import import_records


def test_a_rescan_that_loses_a_race_runs_again(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = make_api(database_url)
    image = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-r"}).json()["id"]
    document = {**PACKAGES, "packages": [{**PACKAGES["packages"][0], "version": "1:9.2p1-2+deb12u4"}]}
    assert api.call("POST", f"/api/v1/images/{image}/reports", json=document).status_code == 201
    make = sessions(make_engine(database_url))
    raced: list[int] = []

    def record_after_a_rival(db: Any, image_id: int, matches: list[Any], origin: str, now: Any) -> int:
        new = record_matches(db, image_id, matches, origin, now)  # read, then add (not yet flushed)
        if not raced:  # the rival commits the same finding before we do
            raced.append(image_id)
            with make() as rival:
                record_matches(rival, image_id, matches, "report", now)
                rival.commit()
        return new

    monkeypatch.setattr(rescan, "record_matches", record_after_a_rival)
    with make() as db:
        db.add(Job(id="rescan-1", kind="rescan"))
        db.commit()
    advisories = thread_lookup(advisory_db(tmp_path))
    run_job(
        make, "rescan-1", JobContext(lambda: advisories, bundled_catalog(), lambda: dt.date(2026, 11, 28))
    )
    with make() as db:
        job = db.get(Job, "rescan-1")
        assert job is not None and job.status == "done", job.result if job else None
        assert raced == [image]
        assert db.scalar(select(func.count()).select_from(Finding)) == 1


def test_a_rescan_never_calls_an_uncovered_image_clean(database_url: str, tmp_path: Path) -> None:
    """A database without the image's ecosystem (here: Debian:11 only, for a Debian 12 image) matches
    nothing; the rescan says the image was undecided, and why, instead of reporting it clean."""
    api = make_api(database_url)
    image = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-u"}).json()["id"]
    assert api.call("POST", f"/api/v1/images/{image}/reports", json=PACKAGES).status_code == 201
    database = tmp_path / "debian11.sqlite3"
    import_records(database, FIXTURES / "osv/DSA-9002-1.json")  # a Debian 11 advisory
    make = sessions(make_engine(database_url))
    with make() as db:
        db.add(Job(id="rescan-u", kind="rescan"))
        db.commit()
    advisories = thread_lookup(database)
    run_job(
        make, "rescan-u", JobContext(lambda: advisories, bundled_catalog(), lambda: dt.date(2026, 11, 28))
    )
    with make() as db:
        job = db.get(Job, "rescan-u")
        assert job is not None and job.status == "done", job.result if job else None
        assert job.result["newly_exposed"] == []
        (undecided,) = job.result["undecided"]
        assert undecided["ecosystem"] == "Debian:12" and undecided["images"] == [image]
        assert "no records for Debian:12" in undecided["reason"]
