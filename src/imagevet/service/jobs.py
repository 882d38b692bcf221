"""Running a job (a rescan or an audit) and recording it in the jobs table. Used both in-process (the
server's own job threads) and by queue workers, so a job behaves the same wherever it runs.

A job's row holds everything needed to run it (kind and params), and a job's results are committed in
the same transaction that marks it done, so a worker killed mid-job leaves nothing half-stored and the
retry that finishes it stores its results once.

Each attempt owns its job through a fresh ``run_id``: only the attempt whose id the row holds can
complete it. So a job cancelled (``DELETE /api/v1/jobs/{id}``), stopped at its wall-clock limit, handed
back at shutdown, or taken over by another worker's retry cannot store anything afterwards, even if its
thread is still running. The attempt runs in a thread of its own while the caller's thread watches the
clock, the row (cancellation) and the process (shutdown); a Python thread cannot be killed, so a stopped
attempt is abandoned: it stops at its next checkpoint, or when its own network timeouts end it.

A job is tried at most ``max_attempts`` times: an attempt that never finished (its process died, was
killed, ran out of memory) counts, so a job that brings its worker down does not do so at every start."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from imagevet.catalog.model import Catalog
from imagevet.errors import ImagevetError
from imagevet.service.audit_job import AuditRequest, audit_documents
from imagevet.service.db import ImageVersion, Job, utcnow
from imagevet.service.ingest import AUDIT as AUDIT_SCHEMA
from imagevet.service.ingest import PACKAGES, check_document, release_of
from imagevet.service.payload import check, cleaned, printable
from imagevet.service.records import add_report, fill_release, record_matches, retrying
from imagevet.service.rescan import Lookup, coverage_problem, rescan_all, stored_package
from imagevet.target.ssh import SshOptions
from imagevet.vuln.ecosystem import ecosystems_for
from imagevet.vuln.matcher import Finding as Match
from imagevet.vuln.matcher import match_packages

RESCAN, AUDIT = "rescan", "audit"  # the kinds of job (WORK says how each runs)
ACTIVE = ("queued", "running")
RETRIES = 5
TIME_LIMIT = 3600.0  # seconds; serve/worker --job-time-limit
ATTEMPTS = 3  # serve/worker --job-attempts
log = logging.getLogger("imagevet.service.jobs")
Interrupted = Callable[[], str | None]  # the queue's word on a running job: None, "stop" or "cancel"


class JobError(ImagevetError):
    """A job that cannot run as asked; its message is what the job's result shows."""


class Stopped(Exception):
    """The attempt was told to stop (cancelled, timed out, shutting down): it stores nothing."""


class Superseded(Exception):
    """The attempt no longer owns its job: it stores nothing."""


@dataclass(frozen=True)
class JobContext:
    """What jobs need from the process running them."""

    lookup: Callable[[], Lookup | None]
    catalog: Catalog
    today: Callable[[], dt.date] = dt.date.today
    ssh: SshOptions = field(default_factory=SshOptions)  # the service's key and known_hosts (ssh://)
    time_limit: float = TIME_LIMIT
    max_attempts: int = ATTEMPTS
    stopping: threading.Event = field(default_factory=threading.Event)  # set when the process stops
    poll: float = 0.5  # how often a running job's row and the clock are looked at


@dataclass(frozen=True)
class Attempt:
    job_id: str
    kind: str
    params: dict[str, Any]
    run_id: str
    stop: threading.Event = field(default_factory=threading.Event)

    def checkpoint(self) -> None:
        if self.stop.is_set():
            raise Stopped

    def complete(self, db: Session, result: dict[str, Any]) -> None:
        """Mark the job done in the transaction holding its results, and commit, if still its owner."""
        self.checkpoint()
        if not _finish(db, self, "done", result):
            raise Superseded
        db.commit()


def run_job(
    make_session: sessionmaker[Session],
    job_id: str,
    context: JobContext,
    interrupted: Interrupted | None = None,
) -> str | None:
    """One attempt at the job, watched until it ends. Returns how it ended (done, failed, cancelled,
    timed-out, interrupted), or None when there was nothing to run (finished, cancelled, unknown)."""
    attempt = claim(make_session, job_id, context.max_attempts)
    if attempt is None:
        return None
    worker = threading.Thread(target=_run_attempt, args=(make_session, attempt, context), daemon=True,
                              name=f"imagevet-job-{job_id[:8]}")  # fmt: skip
    worker.start()
    deadline = time.monotonic() + context.time_limit
    while True:
        worker.join(max(0.0, min(context.poll, deadline - time.monotonic())))
        if not worker.is_alive():
            return status_of(make_session, job_id)
        reason = "stop" if context.stopping.is_set() else (interrupted() if interrupted else None)
        if reason is not None:
            attempt.stop.set()
            if reason == "stop":
                return "interrupted" if release(make_session, attempt) else status_of(make_session, job_id)
            cancel(make_session, job_id)
            return "cancelled"
        if time.monotonic() >= deadline:
            attempt.stop.set()
            limit = f"{context.time_limit:g}"
            with make_session() as db:
                timed_out = _finish(
                    db, attempt, "failed", {"error": f"stopped at its time limit of {limit} s"}
                )
                db.commit()
            return "timed-out" if timed_out else status_of(make_session, job_id)
        if not owns(make_session, attempt):  # cancelled, or taken over by another worker's retry
            attempt.stop.set()
            return status_of(make_session, job_id)


def claim(make_session: sessionmaker[Session], job_id: str, max_attempts: int) -> Attempt | None:
    """A new attempt owning the job, or None: the job is finished, unknown, or out of attempts (then it
    is failed here, with the reason)."""
    run_id = str(uuid.uuid4())
    with make_session() as db:
        claimed = db.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(ACTIVE), Job.attempts < max_attempts)
            .values(status="running", attempts=Job.attempts + 1, run_id=run_id, started_at=utcnow())
            .returning(Job.kind, Job.params)
            .execution_options(synchronize_session=False)
        ).first()
        if claimed is not None:
            db.commit()
            return Attempt(job_id, str(claimed.kind), dict(claimed.params or {}), run_id)
        used = db.scalar(select(Job.attempts).where(Job.id == job_id, Job.status.in_(ACTIVE)))
        if used is not None:
            error = (
                f"gave up after {used} attempts that did not finish (the process running each one stopped)"
            )
            db.execute(
                update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE))
                .values(status="failed", run_id=None, finished_at=utcnow(), result={"error": error})
                .execution_options(synchronize_session=False)
            )  # fmt: skip
        db.commit()
        return None


def _finish(db: Session, attempt: Attempt, status: str, result: dict[str, Any]) -> bool:
    """End the job as ``status`` if ``attempt`` still owns it (not committed here)."""
    ended = db.execute(
        update(Job)
        .where(Job.id == attempt.job_id, Job.run_id == attempt.run_id, Job.status == "running")
        .values(status=status, result=result, finished_at=utcnow(), run_id=None)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    ).first()
    return ended is not None


def release(make_session: sessionmaker[Session], attempt: Attempt) -> bool:
    """Hand the job back (shutdown): queued again, the interrupted attempt not counted."""
    with make_session() as db:
        released = db.execute(
            update(Job)
            .where(Job.id == attempt.job_id, Job.run_id == attempt.run_id, Job.status == "running")
            .values(status="queued", run_id=None, attempts=Job.attempts - 1)
            .returning(Job.id)
            .execution_options(synchronize_session=False)
        ).first()
        db.commit()
    return released is not None


def cancel(make_session: sessionmaker[Session], job_id: str) -> Job | None:
    """Cancel a queued or running job; returns the job as it now is (None if there is no such job). A
    running attempt notices within its poll interval and stores nothing."""
    with make_session() as db:
        db.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(ACTIVE))
            .values(status="cancelled", run_id=None, finished_at=utcnow(), result={"error": "cancelled"})
            .execution_options(synchronize_session=False)
        )
        db.commit()
        return db.get(Job, job_id)


def owns(make_session: sessionmaker[Session], attempt: Attempt) -> bool:
    with make_session() as db:
        return db.scalar(select(Job.run_id).where(Job.id == attempt.job_id)) == attempt.run_id


def status_of(make_session: sessionmaker[Session], job_id: str) -> str | None:
    with make_session() as db:
        return db.scalar(select(Job.status).where(Job.id == job_id))


def error_text(exc: BaseException) -> str:
    """A failed job's reason, as stored and shown. An ImagevetError's message is the project's own one
    line, which names files and fields, not their bytes. Any other exception's message may quote what the
    job read (a KeyError's key, a UnicodeDecodeError's bytes, a database's "failing row"), so only its
    class is kept; the traceback goes to the service's log."""
    if isinstance(exc, ImagevetError):
        return f"{type(exc).__name__}: {printable(str(exc))}"
    log.error("job failed with an internal error", exc_info=exc)
    return f"{type(exc).__name__}: an internal error (the service's log has the details)"


def _run_attempt(make_session: sessionmaker[Session], attempt: Attempt, context: JobContext) -> None:
    with make_session() as db:
        try:
            work = WORK.get(attempt.kind)
            if work is None:
                raise JobError("this service has no such kind of job")
            work(db, attempt, context)
        except (Stopped, Superseded):
            db.rollback()  # cancelled, timed out, handed back or taken over: nothing is stored
        except Exception as exc:  # a job's failure is recorded, never lost in a thread or worker
            db.rollback()
            try:
                _finish(db, attempt, "failed", {"error": error_text(exc)})
                db.commit()
            except SQLAlchemyError:
                log.exception("could not record the failure of job %s", attempt.job_id)


def rescan_work(db: Session, attempt: Attempt, context: JobContext) -> None:
    """A rescan; run again when a concurrent writer (another rescan, an audit, a pushed report) added the
    same finding first. Findings are upserts, so running again is safe."""
    lookup = context.lookup()
    if lookup is None:
        raise JobError("no advisory database (serve/worker --db PATH or IMAGEVET_DB)")
    retrying(db, lambda: attempt.complete(db, rescan_all(db, lookup, attempt.checkpoint)), RETRIES, 0.05)


def audit_work(db: Session, attempt: Attempt, context: JobContext) -> None:
    """Audit the target, then store the audit and packages reports and this image's findings, checked as
    a pushed report is (so a stored report can never fail a page later)."""
    request = AuditRequest.from_params(attempt.params)
    if db.get(ImageVersion, request.image) is None:
        raise JobError(f"image {request.image} is no longer registered")
    db.rollback()  # no read transaction held open while the audit runs
    lookup = context.lookup()
    audit, packages = audit_documents(request, context.catalog, context.today(), lookup, context.ssh)
    attempt.checkpoint()
    audit, packages = cleaned(audit), cleaned(packages)
    check(audit)
    check(packages)
    check_document(audit)
    inventory_doc = check_document(packages)
    rows, os = inventory_doc.packages, inventory_doc.os
    ecosystems = ecosystems_for(os) if os is not None else None
    matches: list[Match] = []
    problem = "no advisory database" if lookup is None else ""
    if lookup is not None and ecosystems is not None:
        problem = coverage_problem(lookup, ecosystems, utcnow())
    if lookup is not None and ecosystems is not None and not problem:
        inventory = [
            stored_package(r["name"], r["version"], r["arch"], r["source"], r["source_version"], r["type"])
            for r in rows
        ]
        matches, _ = match_packages(inventory, ecosystems, lookup)
    attempt.checkpoint()

    def store() -> None:
        image = db.get(ImageVersion, request.image)
        if image is None:
            raise JobError(f"image {request.image} is no longer registered")
        fill_release(image, release_of(os))
        reports = [
            add_report(db, request.image, AUDIT_SCHEMA, audit, [], []).id,
            add_report(db, request.image, PACKAGES, packages, rows, []).id,
        ]
        new = record_matches(db, request.image, matches, "audit", utcnow())
        db.flush()
        attempt.complete(db, {
            "image": request.image, "reports": reports, "summary": audit.get("summary"),
            "packages": len(rows), "findings": len(matches), "new_findings": new,
            "scanned": lookup is not None and ecosystems is not None and not problem,
            "scan_problem": problem or (None if ecosystems is not None else "no OSV ecosystem for the image"),
        })  # fmt: skip

    retrying(db, store, RETRIES, 0.05)


WORK: dict[str, Callable[[Session, Attempt, JobContext], None]] = {
    RESCAN: rescan_work,
    AUDIT: audit_work,
}
KINDS = tuple(WORK)  # one queue task each (service/queue.py)
