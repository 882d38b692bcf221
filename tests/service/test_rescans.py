"""`POST /api/v1/rescans` (service/routes/rescans.py) against a real advisory database: the job flags the
newly exposed image once; without an advisory database it is refused (409)."""

from __future__ import annotations

import time
from pathlib import Path

from imagevet.vuln.importer import ImportStats, import_into, iter_inputs
from tests.conftest import FIXTURES
from tests.service.api import PACKAGES, make_api
from tests.support.advisories import fresh_stamp


def test_rescan_flags_newly_exposed_images(database_url: str, tmp_path: Path) -> None:
    advisories = tmp_path / "osv.sqlite3"
    import_into(
        advisories,
        iter_inputs([FIXTURES / "osv/DSA-9001-1.json"], ImportStats()),
        "test",
        fresh_stamp(),
    )
    api = make_api(database_url, advisories)
    image = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-ssh"}).json()["id"]
    api.call("POST", f"/api/v1/images/{image}/reports", json=PACKAGES)
    api.call("POST", "/api/v1/instances", json={"cloud": "aws", "instance_id": "i-1", "image_id": "ami-ssh"})
    started = api.call("POST", "/api/v1/rescans")
    assert started.status_code == 202
    job = started.json()["job"]
    for _ in range(100):
        state = api.call("GET", f"/api/v1/jobs/{job}", scope="read").json()
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert state["status"] == "done" and state["result"]["newly_exposed"] == [image], state
    exposure = api.call("GET", "/api/v1/exposure/CVE-2026-1111", scope="read").json()
    assert exposure["instances"][0]["instance_id"] == "i-1"
    found = api.call("GET", "/api/v1/findings?vuln=DSA-9001-1", scope="read").json()
    assert found[0]["origin"] == "rescan" and found[0]["package"] == "openssh-client"
    again = api.call("POST", "/api/v1/rescans").json()["job"]
    for _ in range(100):
        state = api.call("GET", f"/api/v1/jobs/{again}", scope="read").json()
        if state["status"] == "done":
            break
        time.sleep(0.05)
    assert state["result"]["newly_exposed"] == []  # nothing new the second time
    no_db = make_api(
        database_url.replace("inventory", "other") if database_url.startswith("sqlite") else database_url
    )
    assert no_db.call("POST", "/api/v1/rescans").status_code == 409
