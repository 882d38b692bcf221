"""Audits as jobs (service/audit_job.py, service/jobs.py): the service audits a target it can reach and
keeps the audit and packages reports as the image's, with findings from the advisory database; on SQLite
and on PostgreSQL, in-process. (The queue runs the same job on workers: test_queue.)"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from imagevet.catalog.loader import bundled_catalog
from imagevet.service.app import create_app
from imagevet.service.audit_job import AuditRequest
from imagevet.service.db import Job, Report, make_engine, sessions
from imagevet.service.jobs import JobContext, run_job
from imagevet.target.ssh import SshOptions
from imagevet.vuln.db import thread_lookup
from imagevet.vuln.importer import ImportStats, import_into, iter_inputs
from tests.conftest import FIXTURES
from tests.service.api import Api, make_api
from tests.support.advisories import fresh_stamp
from tests.support.cli import run_imagevet
from tests.support.sshd_server import SshServer, running_sshd

ROOT = FIXTURES / "rootfs/hardened-debian"


def advisory_db(tmp_path: Path) -> Path:
    """DSA-9001-1 with its fix moved past the fixture root's openssh 1:9.2p1-2+deb12u10."""
    advisory = json.loads((FIXTURES / "osv/DSA-9001-1.json").read_text())
    advisory["affected"][0]["ranges"][0]["events"][1]["fixed"] = "1:9.2p1-2+deb12u11"
    source = tmp_path / "DSA-9001-1.json"
    source.write_text(json.dumps(advisory))
    path = tmp_path / "osv.sqlite3"
    import_into(path, iter_inputs([source], ImportStats()), "test", fresh_stamp())
    return path


def wait_job(api: Api, job: str) -> dict[str, Any]:
    for _ in range(400):
        state: dict[str, Any] = api.call("GET", f"/api/v1/jobs/{job}", scope="read").json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.05)
    raise AssertionError(f"job {job} did not finish: {state}")


def new_image(api: Api, image_id: str = "ami-audited") -> int:
    response = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": image_id})
    return int(response.json()["id"])


def test_an_audit_job_stores_the_audit_the_inventory_and_the_findings(
    database_url: str, tmp_path: Path
) -> None:
    api = make_api(database_url, advisory_db(tmp_path))
    image = new_image(api)
    started = api.call("POST", f"/api/v1/images/{image}/audits", scope="admin", json={"target": str(ROOT)})
    assert started.status_code == 202, started.text
    state = wait_job(api, started.json()["job"])
    assert state["status"] == "done", state
    assert state["kind"] == "audit" and state["params"]["target"] == str(ROOT)
    result = state["result"]
    assert result["packages"] == 6 and result["scanned"] is True  # telnet is only config-files
    assert result["findings"] == 1 and result["new_findings"] == 1
    assert sum(result["summary"].values()) > 10
    history = api.call("GET", f"/api/v1/images/{image}/reports", scope="read").json()
    assert [h["schema"] for h in history] == ["imagevet/audit/v1", "imagevet/packages/v1"]
    assert [h["id"] for h in history] == result["reports"]
    found = api.call("GET", "/api/v1/findings?vuln=CVE-2026-1111", scope="read").json()
    assert [(f["package"], f["origin"], f["image"]) for f in found] == [("openssh-server", "audit", image)]
    detail = api.call("GET", f"/api/v1/images/{image}", scope="read").json()
    assert detail["audit"] == result["summary"]
    # The job list shows it, newest first.
    listed = api.call("GET", "/api/v1/jobs?kind=audit", scope="read").json()
    assert [j["id"] for j in listed] == [state["id"]]
    # Auditing again sees the same finding again: nothing new, nothing duplicated.
    body = {"target": str(ROOT), "profile": "cis-l1"}
    again = wait_job(
        api, api.call("POST", f"/api/v1/images/{image}/audits", scope="admin", json=body).json()["job"]
    )
    assert again["status"] == "done" and again["result"]["new_findings"] == 0
    assert len(api.call("GET", "/api/v1/findings", scope="read").json()) == 1


def test_audit_requests_are_checked_before_a_job_exists(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'inventory.sqlite3'}")
    image = new_image(api)
    path = f"/api/v1/images/{image}/audits"
    assert api.call("POST", path, scope="write", json={"target": str(ROOT)}).status_code == 403
    assert api.call("POST", path, scope="", json={"target": str(ROOT)}).status_code == 401
    for body, words in [
        ({"target": "relative/root"}, "absolute"),
        ({"target": "docker-archive:image.tar"}, "absolute"),
        ({"target": str(ROOT), "profile": "nope"}, "unknown profile"),
        ({"target": str(ROOT), "checks": ["no-such-check"]}, "unknown check"),
        ({"target": str(ROOT), "timeout": 0}, "timeout"),
        ({}, "target"),
    ]:
        response = api.call("POST", path, scope="admin", json=body)
        assert response.status_code == 422 and words in response.text, (body, response.text)
    missing = api.call("POST", "/api/v1/images/999/audits", scope="admin", json={"target": str(ROOT)})
    assert missing.status_code == 404
    assert api.call("GET", "/api/v1/jobs", scope="read").json() == []


def test_an_unreachable_target_fails_its_job_with_one_line(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'inventory.sqlite3'}")
    image = new_image(api)
    for target, words in [
        (str(tmp_path / "gone"), "does not exist"),
        (f"docker-archive:{tmp_path / 'gone.tar'}", "does not exist"),
        ("ssh://nobody@127.0.0.1:1", "127.0.0.1"),
    ]:
        body = {"target": target, "timeout": 2}
        state = wait_job(api, api.call("POST", f"/api/v1/images/{image}/audits", scope="admin", json=body)
                         .json()["job"])  # fmt: skip
        assert state["status"] == "failed", state
        error = state["result"]["error"]
        assert words in error and "\n" not in error and "Traceback" not in error, error
    assert api.call("GET", f"/api/v1/images/{image}/reports", scope="read").json() == []
    # The image deleted between the request and the run: the job says so.
    make = sessions(make_engine(f"sqlite:///{tmp_path / 'inventory.sqlite3'}"))
    with make() as db:
        db.add(Job(id="orphan", kind="audit", params=AuditRequest(9999, str(ROOT)).params()))
        db.commit()
    run_job(make, "orphan", JobContext(lambda: None, bundled_catalog()))
    with make() as db:
        orphan = db.get(Job, "orphan")
        assert orphan is not None and orphan.status == "failed"
        assert orphan.result == {"error": "JobError: image 9999 is no longer registered"}


@pytest.mark.parametrize("first_attempt", ["killed", "done"])
def test_a_retried_audit_job_stores_its_results_once(tmp_path: Path, first_attempt: str) -> None:
    """A worker killed mid-audit left the job 'running' with nothing stored; the retry stores the results
    once. A retry of a finished job does nothing."""
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    api = make_api(url)
    image = new_image(api)
    job = wait_job(api, api.call("POST", f"/api/v1/images/{image}/audits", scope="admin",
                                 json={"target": str(ROOT)}).json()["job"])["id"]  # fmt: skip
    make = sessions(make_engine(url))
    with make() as db:
        if first_attempt == "killed":  # as a killed worker leaves it: running, its results rolled back
            db.query(Report).delete()
            row = db.get(Job, job)
            assert row is not None
            row.status, row.result = "running", None
            db.commit()
    context = JobContext(lambda: thread_lookup(advisory_db(tmp_path)), bundled_catalog())
    run_job(make, job, context)
    with make() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 2
        row = db.get(Job, job)
        assert row is not None and row.status == "done"
        assert row.attempts == (2 if first_attempt == "killed" else 1)


def test_jobs_a_stopped_server_left_unfinished_run_when_it_starts(tmp_path: Path) -> None:
    """Embedded mode: a job queued (or running) when the server stopped is run by the next start."""
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    api = make_api(url)
    image = new_image(api)
    make = sessions(make_engine(url))
    request = AuditRequest(image, str(ROOT))
    with make() as db:
        db.add_all([
            Job(id="left-queued", kind="audit", params=request.params()),
            Job(id="left-running", kind="audit", status="running", attempts=1, params=request.params()),
        ])  # fmt: skip
        db.commit()
    app = create_app(make, lambda: None, bundled_catalog())
    with TestClient(app):  # runs the app's start-up
        for job in ("left-queued", "left-running"):
            for _ in range(200):
                with make() as db:
                    row = db.get(Job, job)
                    assert row is not None
                    if row.status in ("done", "failed"):
                        break
                time.sleep(0.05)
            assert row.status == "done", row.result
    with make() as db:
        assert db.scalar(select(func.count()).select_from(Report)) == 4


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with running_sshd(tmp_path_factory.mktemp("sshd")) as running:
        yield running


@pytest.mark.real
def test_an_audit_job_over_ssh_uses_the_services_key(sshd: SshServer, tmp_path: Path) -> None:
    """A live host over SSH (this machine, through a real sshd on 127.0.0.1): the job authenticates with
    the key and known_hosts the service was started with; a wrong known_hosts fails it."""
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    ssh = SshOptions(identity=str(sshd.client_key), known_hosts=str(sshd.known_hosts))
    api = make_api(url, ssh=ssh)
    image = new_image(api, "ami-live")
    body = {"target": sshd.spec, "timeout": 10}
    state = wait_job(
        api, api.call("POST", f"/api/v1/images/{image}/audits", scope="admin", json=body).json()["job"]
    )
    assert state["status"] == "done", state
    assert state["result"]["packages"] > 50  # this machine's own dpkg database, read over SSH
    reports = api.call("GET", f"/api/v1/images/{image}/reports", scope="read").json()
    assert len(reports) == 2
    wrong = make_api(
        url, ssh=SshOptions(identity=str(sshd.client_key), known_hosts=str(sshd.wrong_known_hosts))
    )
    state = wait_job(
        wrong, wrong.call("POST", f"/api/v1/images/{image}/audits", scope="admin", json=body).json()["job"]
    )
    assert state["status"] == "failed" and "\n" not in state["result"]["error"], state


def test_serve_refuses_a_missing_ssh_key(tmp_path: Path) -> None:
    result = run_imagevet("serve", "--database-url", f"sqlite:///{tmp_path / 'i.sqlite3'}",
                          "--ssh-identity", str(tmp_path / "missing"))  # fmt: skip
    assert result.returncode == 2 and "missing is not a readable file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_audit_job_reads_a_disk_image_by_url_and_never_shows_its_signature(tmp_path: Path) -> None:
    """A signed URL's query is a credential the job needs to run: the job keeps it, but the API shows
    the target without it, and the stored reports do not hold it."""
    from tests.support.disks import disk_tools_available, make_disk
    from tests.support.nginx import start_nginx

    if not disk_tools_available():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")
    served = tmp_path / "served"
    served.mkdir()
    make_disk(ROOT, served / "root.qcow2", size_mib=64)
    api = make_api(f"sqlite:///{tmp_path / 'inventory.sqlite3'}")
    image = new_image(api)
    with start_nginx(tmp_path / "nginx", served) as server:
        url = f"{server.base_url}/root.qcow2?sv=2024-11-04&sig=TOPSECRETSIGNATURE"
        started = api.call("POST", f"/api/v1/images/{image}/audits", scope="admin", json={"target": url})
        assert started.status_code == 202, started.text
        state = wait_job(api, started.json()["job"])
    assert state["status"] == "done", state
    assert state["params"]["target"] == f"{server.base_url}/root.qcow2?…"
    reports = api.call("GET", f"/api/v1/images/{image}/reports", scope="read").json()
    assert [r["schema"] for r in reports] == ["imagevet/audit/v1", "imagevet/packages/v1"]
    everything = json.dumps([state, api.call("GET", "/api/v1/jobs", scope="read").json()])
    make = sessions(make_engine(f"sqlite:///{tmp_path / 'inventory.sqlite3'}"))
    with make() as db:
        stored = [r.document for r in db.scalars(select(Report))]
    assert stored[0]["target"]["source"]["kind"] == "http"
    assert "TOPSECRETSIGNATURE" not in everything + json.dumps(stored)


def test_an_ami_audit_request_takes_a_region(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'inventory.sqlite3'}")
    image = new_image(api)
    path = f"/api/v1/images/{image}/audits"
    bad = api.call("POST", path, scope="admin", json={"target": "ami:ami-0123456789abcdef0", "region": "x"})
    assert bad.status_code == 422 and "region" in bad.text
    body = {"target": "ami:ami-0123456789abcdef0", "region": "eu-west-1", "timeout": 2}
    started = api.call("POST", path, scope="admin", json=body)
    assert started.status_code == 202, started.text
    state = wait_job(api, started.json()["job"])
    assert state["params"]["region"] == "eu-west-1"
    assert state["status"] == "failed" and "\n" not in state["result"]["error"]  # no AWS here
