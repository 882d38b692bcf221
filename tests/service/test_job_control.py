"""Jobs under control (issue 15, item 10), with jobs that really run: audits of an SSH "host" that accepts
connections and never answers (tests/service/tarpit.py), which only their own 600 s timeout would end.

- A job is stopped at its wall-clock limit: failed with the reason, nothing stored, and the abandoned
  attempt cannot store anything later.
- `DELETE /api/v1/jobs/{id}` (admin) cancels a queued or a running job: `cancelled`, nothing stored.
- A job whose process keeps dying stops after N attempts instead of running (and dying) at every start.
- A SIGTERM'd `imagevet serve` exits 0 at once, hands its running job back (queued, the attempt not
  counted), and removes its temporary files; the next start runs the job again.
- Error texts stored in jobs never carry bytes of the files the job read.
SQLite and PostgreSQL in-process; the server's own behaviour over real HTTP."""

from __future__ import annotations

import datetime as dt
import os
import signal
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from imagevet.catalog.loader import bundled_catalog
from imagevet.service.app import create_app
from imagevet.service.audit_job import AuditRequest
from imagevet.service.auth import digest, new_token
from imagevet.service.db import ApiToken, ImageVersion, Job, Report, make_engine, sessions
from imagevet.service.jobs import error_text
from imagevet.service.migrate import upgrade
from tests.service.http import call
from tests.service.tarpit import tarpit
from tests.support.cli import run_imagevet
from tests.support.serve import serving

MARKER = "EVIL-MARKER-51d2"


class Service:
    """The app in-process, with tokens and one image, and its database."""

    def __init__(self, url: str, **options: Any) -> None:
        upgrade(url)
        self.make = sessions(make_engine(url))
        self.tokens = {scope: new_token() for scope in ("read", "write", "admin")}
        with self.make() as db:
            db.add_all(ApiToken(name=s, scope=s, digest=digest(t)) for s, t in self.tokens.items())
            db.add(ImageVersion(cloud="aws", image_id="ami-1"))
            db.commit()
        options.setdefault("lookup", lambda: None)
        self.app = create_app(self.make, catalog=bundled_catalog(), today=lambda: dt.date(2026, 11, 28),
                              **options)  # fmt: skip
        self.client = TestClient(self.app, raise_server_exceptions=False)

    def call(self, method: str, path: str, scope: str = "admin", **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[scope]}"}
        return self.client.request(method, path, headers=headers, **kwargs)

    def audit(self, target: str, timeout: float = 600) -> str:
        started = self.call("POST", "/api/v1/images/1/audits", json={"target": target, "timeout": timeout})
        assert started.status_code == 202, started.text
        return str(started.json()["job"])

    def job(self, job_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.call("GET", f"/api/v1/jobs/{job_id}", scope="read").json()
        return answer

    def reports(self) -> int:
        with self.make() as db:
            return int(db.scalar(select(func.count()).select_from(Report)) or 0)


def until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait for ``condition``; returns the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_a_job_is_stopped_at_its_wall_clock_limit(database_url: str) -> None:
    service = Service(database_url, job_time_limit=1.5)
    with tarpit() as port:
        job = service.audit(f"ssh://root@127.0.0.1:{port}")
        took = until(lambda: service.job(job)["status"] == "failed", 10, "the time limit")
        state = service.job(job)
        assert state["result"] == {"error": "stopped at its time limit of 1.5 s"}, state
        assert 1.0 < took < 5 and state["attempts"] == 1
    time.sleep(1.0)  # the tarpit is gone: the abandoned attempt ends now, and must not store anything
    assert service.job(job)["status"] == "failed" and service.reports() == 0


def test_jobs_are_cancelled_queued_or_running(database_url: str) -> None:
    service = Service(database_url)
    with tarpit() as port:
        target = f"ssh://root@127.0.0.1:{port}"
        running = [service.audit(target) for _ in range(2)]  # the two in-process job threads
        until(lambda: all(service.job(j)["status"] == "running" for j in running), 10, "two running jobs")
        queued = service.audit(target)
        assert service.job(queued)["status"] == "queued"
        assert service.call("DELETE", f"/api/v1/jobs/{queued}", scope="write").status_code == 403
        assert service.call("DELETE", "/api/v1/jobs/no-such-job").status_code == 404
        for job in (queued, running[0]):
            cancelled = service.call("DELETE", f"/api/v1/jobs/{job}")
            assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
        # The cancelled running job frees its thread: the queued one would run now, but it was cancelled.
        time.sleep(1.5)
        assert [service.job(j)["status"] for j in (queued, running[0], running[1])] == [
            "cancelled", "cancelled", "running"
        ]  # fmt: skip
        assert service.job(queued)["attempts"] == 0
        assert service.call("DELETE", f"/api/v1/jobs/{running[1]}").status_code == 200
    time.sleep(1.0)  # the abandoned attempts end (connection reset): nothing stored, still cancelled
    assert all(service.job(j)["status"] == "cancelled" for j in (queued, *running))
    assert service.reports() == 0
    finished = service.audit("/nonexistent-root")
    until(lambda: service.job(finished)["status"] == "failed", 10, "a failed job")
    again = service.call("DELETE", f"/api/v1/jobs/{finished}")
    assert again.status_code == 409 and again.json()["error"] == "the job is already failed"


def test_a_job_that_keeps_dying_stops_after_its_attempts(database_url: str) -> None:
    """Rows as a server killed mid-job leaves them: `running`, with the attempts already made."""
    service = Service(database_url, job_attempts=3)
    params = AuditRequest(1, "/nonexistent-root").params()
    with service.make() as db:
        db.add_all([
            Job(id="died-thrice", kind="audit", status="running", attempts=3, params=params),
            Job(id="died-once", kind="audit", status="running", attempts=1, params=params),
        ])  # fmt: skip
        db.commit()
    with TestClient(service.app):  # the start-up runs the jobs a stopped server left unfinished
        until(lambda: service.job("died-once")["status"] == "failed", 10, "the retried job")
        gave_up = service.job("died-thrice")
    assert gave_up["status"] == "failed" and gave_up["attempts"] == 3
    assert gave_up["result"]["error"].startswith("gave up after 3 attempts that did not finish")
    retried = service.job("died-once")
    assert retried["attempts"] == 2 and "does not exist" in retried["result"]["error"]


def hostile_archives(folder: Path) -> list[str]:
    """Targets whose bytes carry MARKER where a careless message would quote them."""
    import io
    import json

    folder.mkdir()
    targets = []
    garbage = folder / "garbage.tar"
    garbage.write_bytes(MARKER.encode() * 300)
    targets.append(f"tar:{garbage}")
    for name, manifest in [
        ("missing-layer.tar", [{"Config": f"{MARKER}.json", "Layers": [f"{MARKER}/l.tar"]}]),
        ("bad-json.tar", f'{{"{MARKER}": ['),
        ("wrong-type.tar", [{"Config": 5, "Layers": {MARKER: MARKER}}]),
    ]:  # fmt: skip
        data = (manifest if isinstance(manifest, str) else json.dumps(manifest)).encode()
        with tarfile.open(folder / name, "w") as archive:
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        targets.append(f"docker-archive:{folder / name}")
    return targets


def test_job_errors_never_carry_bytes_of_what_the_job_read(tmp_path: Path) -> None:
    service = Service(f"sqlite:///{tmp_path / 'inventory.sqlite3'}")
    for target in hostile_archives(tmp_path / "hostile"):
        job = service.audit(target)
        until(lambda job=job: service.job(job)["status"] in ("done", "failed"), 20, target)
        state = service.job(job)
        assert state["status"] == "failed", state
        error = state["result"]["error"]
        assert MARKER not in error and "\n" not in error and len(error) <= 500, (target, error)

    # An internal error (a bug in a reader) whose message quotes what it read: only its class is kept.
    def broken_lookup() -> Any:
        raise KeyError(f"{MARKER}/etc/passwd")

    broken = Service(f"sqlite:///{tmp_path / 'other.sqlite3'}", lookup=broken_lookup)
    job = broken.audit(str(Path(__file__).resolve().parents[1] / "fixtures/rootfs/hardened-debian"))
    until(lambda: broken.job(job)["status"] == "failed", 20, "the internal error")
    assert broken.job(job)["result"] == {
        "error": "KeyError: an internal error (the service's log has the details)"
    }
    assert error_text(UnicodeDecodeError("utf-8", MARKER.encode(), 0, 1, "bad")).startswith(
        "UnicodeDecodeError: an internal error"
    )


def _job_row(url: str, job_id: str) -> Job:
    with sessions(make_engine(url))() as db:
        row = db.get(Job, job_id)
        assert row is not None
        return row


def test_a_sigtermed_server_hands_its_job_back_and_cleans_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data"), "TMPDIR": str(scratch)}
    admin = run_imagevet("token", "create", "--scope", "admin", "--database-url", url, env=env).stdout.strip()
    with tarpit() as port, serving(url, env) as served:
        base = served.base
        assert (
            call(base, "POST", "/api/v1/images", admin, {"cloud": "aws", "image_id": "ami-1"}).status == 201
        )
        body = {"target": f"ssh://root@127.0.0.1:{port}", "timeout": 600}
        job = call(base, "POST", "/api/v1/images/1/audits", admin, body).json()["job"]
        until(
            lambda: call(base, "GET", f"/api/v1/jobs/{job}", admin).json()["status"] == "running",
            10,
            "running",
        )
        private = [p for p in scratch.iterdir() if p.name.startswith("imagevet-service-")]
        assert len(private) == 1  # the server's own temporary directory
        (private[0] / "left-by-a-job").write_text("partial layer")
        served.proc.send_signal(signal.SIGTERM)
        code = served.proc.wait(timeout=15)
        stderr = served.log()
        assert code == 0 and "Traceback" not in stderr, stderr
        row = _job_row(url, job)
        assert (row.status, row.attempts, row.run_id) == ("queued", 0, None)
        assert list(scratch.iterdir()) == []
    # The tarpit is gone: the next start runs the job again, and it fails cleanly (connection refused).
    with serving(url, env) as served:
        until(lambda: _job_row(url, job).status == "failed", 20, "the job run again")
        row = _job_row(url, job)
        assert row.attempts == 1 and row.result and "cannot connect" in row.result["error"], row.result


def test_a_job_that_kills_its_server_stops_after_its_attempts(tmp_path: Path) -> None:
    """SIGKILL, as the OOM killer would, while the job runs, at every start: after --job-attempts 2 the
    job is failed and the server starts and serves as usual."""
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    run_imagevet("token", "create", "--scope", "read", "--database-url", url, env=env)  # migrates
    with tarpit() as port:
        with sessions(make_engine(url))() as db:  # queued, as `POST /audits` leaves it
            db.add(ImageVersion(cloud="aws", image_id="ami-1"))
            db.flush()
            params = AuditRequest(1, f"ssh://root@127.0.0.1:{port}", timeout=600).params()
            db.add(Job(id="deadly", kind="audit", params=params))
            db.commit()
        for attempt in (1, 2):
            with serving(url, env, ("--job-attempts", "2")) as served:
                until(lambda n=attempt: _job_row(url, "deadly").attempts == n, 10, "the attempt")
                served.proc.kill()
                served.proc.wait(timeout=10)
            assert _job_row(url, "deadly").status == "running"
        with serving(url, env, ("--job-attempts", "2")) as served:
            until(lambda: _job_row(url, "deadly").status == "failed", 10, "the job to be given up")
            assert "gave up after 2 attempts" in (_job_row(url, "deadly").result or {})["error"]
            assert call(served.base, "GET", "/health").status == 200
