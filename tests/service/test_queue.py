"""Jobs on the real queue: `imagevet serve --queue` defers rescans and audits to procrastinate on
PostgreSQL, two `imagevet worker` processes run them; a worker killed with SIGKILL mid-job has its job
finished by another worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from imagevet.service.queue import ensure_schema, make_queue
from imagevet.vuln.importer import ImportStats, import_into, iter_inputs
from tests.conftest import FIXTURES, PROJECT
from tests.service.api import PACKAGES
from tests.support.advisories import fresh_stamp
from tests.support.cli import run_imagevet
from tests.support.serve import free_port


@contextmanager
def process(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "imagevet", *args], env=env, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def call(base: str, token: str, method: str, path: str, body: object = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_rescans_run_on_workers(postgres_url: str, tmp_path: Path) -> None:
    database_url = postgres_url  # the queue is PostgreSQL-only; SQLite runs jobs in-process (test_rescans)
    advisories = tmp_path / "osv.sqlite3"
    import_into(
        advisories,
        iter_inputs([FIXTURES / "osv/DSA-9001-1.json"], ImportStats()),
        "t",
        fresh_stamp(),
    )
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(PROJECT)}
    token = run_imagevet(
        "token", "create", "--scope", "write", "--database-url", database_url, env=env
    ).stdout.strip()
    admin = run_imagevet(
        "token", "create", "--scope", "admin", "--database-url", database_url, env=env
    ).stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = ["serve", "--queue", "--database-url", database_url, "--db", str(advisories), "--port", str(port)]
    work = ["worker", "--database-url", database_url, "--db", str(advisories)]
    with ExitStack() as stack:
        stack.enter_context(process(serve, env))
        wait_for(lambda: _up(base), 30, "the service")
        workers = [stack.enter_context(process(work, env)) for _ in range(2)]
        image = call(base, token, "POST", "/api/v1/images", {"cloud": "aws", "image_id": "ami-q"})
        assert isinstance(image, dict)
        call(base, token, "POST", f"/api/v1/images/{image['id']}/reports", PACKAGES)
        jobs = [call(base, token, "POST", "/api/v1/rescans") for _ in range(3)]
        ids = [j["job"] for j in jobs if isinstance(j, dict)]

        def finished() -> bool:
            states = [call(base, token, "GET", f"/api/v1/jobs/{i}") for i in ids]
            failed = [s for s in states if isinstance(s, dict) and s["status"] == "failed"]
            assert not failed, failed  # say why at once, rather than time out
            return all(isinstance(s, dict) and s["status"] == "done" for s in states)

        wait_for(finished, 60, "three rescans on the workers")
        assert all(w.poll() is None for w in workers)
        results = [call(base, token, "GET", f"/api/v1/jobs/{i}") for i in ids]
        exposed = [r["result"]["newly_exposed"] for r in results if isinstance(r, dict)]
        assert sorted(map(len, exposed)) == [0, 0, 1]  # found once, whichever job ran first
        findings = call(base, token, "GET", "/api/v1/findings?vuln=DSA-9001-1")
        assert isinstance(findings, list) and len(findings) == 1
        # An audit is a job too: a worker audits the target and stores both reports.
        audited = call(base, admin, "POST", f"/api/v1/images/{image['id']}/audits",
                       {"target": str(FIXTURES / "rootfs/hardened-debian")})  # fmt: skip
        assert isinstance(audited, dict)

        def audit_finished() -> bool:
            state = call(base, token, "GET", f"/api/v1/jobs/{audited['job']}")
            return isinstance(state, dict) and state["status"] in ("done", "failed")

        wait_for(audit_finished, 60, "an audit on the workers")
        state = call(base, token, "GET", f"/api/v1/jobs/{audited['job']}")
        assert isinstance(state, dict) and state["status"] == "done", state
        assert state["result"]["packages"] == 6
        history = call(base, token, "GET", f"/api/v1/images/{image['id']}/reports")
        assert isinstance(history, list)
        assert [h["schema"] for h in history][-2:] == ["imagevet/audit/v1", "imagevet/packages/v1"]


def _up(base: str) -> bool:
    try:
        urllib.request.urlopen(base + "/health", timeout=1).close()
        return True
    except OSError:
        return False


def test_a_killed_workers_job_is_finished_by_another(postgres_url: str, tmp_path: Path) -> None:
    database_url = postgres_url
    advisories = tmp_path / "osv.sqlite3"
    import_into(
        advisories,
        iter_inputs([FIXTURES / "osv/DSA-9001-1.json"], ImportStats()),
        "t",
        fresh_stamp(),
    )
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "IMAGEVET_QUEUE_IMPORTS": "tests.service.sleepy_task",
           "IMAGEVET_STALLED_AFTER": "3", "IMAGEVET_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    os.environ["IMAGEVET_QUEUE_IMPORTS"] = "tests.service.sleepy_task"
    try:
        queue = make_queue(database_url)
    finally:
        del os.environ["IMAGEVET_QUEUE_IMPORTS"]
    run_imagevet("token", "create", "--scope", "read", "--database-url", database_url, env=env)  # migrates
    ensure_schema(database_url, queue)
    with queue.open():
        queue.configure_task("tests.service.sleepy_task:sleepy").defer(folder=str(marks))
    work = ["worker", "--database-url", database_url, "--db", str(advisories)]
    with process(work, env) as first:
        wait_for(lambda: (marks / "started-1").exists(), 30, "the first attempt")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    with process(work, env):
        wait_for(lambda: (marks / "done").exists(), 60, "another worker to finish the job")
    assert (marks / "done").read_text() == "2"


def test_a_sigtermed_worker_hands_its_job_back_to_the_queue(postgres_url: str, tmp_path: Path) -> None:
    """SIGTERM to a worker running an audit (of an SSH host that never answers): the worker exits 0 at
    once, the job is queued again (the attempt not counted), and another worker runs it; with the host
    gone by then, it fails cleanly instead of staying "running"."""
    from sqlalchemy import select

    from imagevet.service.db import Job, make_engine, sessions
    from tests.service.tarpit import tarpit

    database_url = postgres_url
    advisories = tmp_path / "osv.sqlite3"
    import_into(advisories, iter_inputs([FIXTURES / "osv/DSA-9001-1.json"], ImportStats()), "t",
                fresh_stamp())  # fmt: skip
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(PROJECT)}
    admin = run_imagevet(
        "token", "create", "--scope", "admin", "--database-url", database_url, env=env
    ).stdout.strip()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = ["serve", "--queue", "--database-url", database_url, "--db", str(advisories), "--port", str(port)]
    work = ["worker", "--database-url", database_url, "--db", str(advisories)]
    make = sessions(make_engine(database_url))

    def row(job_id: str) -> tuple[str, int]:
        with make() as db:
            job = db.scalars(select(Job).where(Job.id == job_id)).one()
            return job.status, job.attempts

    with ExitStack() as stack:
        stack.enter_context(process(serve, env))
        wait_for(lambda: _up(base), 30, "the service")
        image = call(base, admin, "POST", "/api/v1/images", {"cloud": "aws", "image_id": "ami-t"})
        assert isinstance(image, dict)
        with tarpit() as hole:
            body = {"target": f"ssh://root@127.0.0.1:{hole}", "timeout": 600}
            started = call(base, admin, "POST", f"/api/v1/images/{image['id']}/audits", body)
            assert isinstance(started, dict)
            job = started["job"]
            with process(work, env) as worker:
                wait_for(lambda: row(job) == ("running", 1), 30, "the worker to start the job")
                worker.send_signal(signal.SIGTERM)
                code = worker.wait(timeout=20)
                stderr = worker.stderr.read() if worker.stderr else ""
                assert code == 0 and "Traceback" not in stderr, stderr
            assert row(job) == ("queued", 0)
        with process(work, env):  # the host is gone: the retry fails cleanly, once
            wait_for(lambda: row(job)[0] == "failed", 60, "another worker to run the job")
        state = call(base, admin, "GET", f"/api/v1/jobs/{job}")
        assert isinstance(state, dict) and state["attempts"] == 1
        assert "cannot connect" in state["result"]["error"], state
