"""Running a job (a rescan or an audit) and recording it in the jobs table. Used both in-process (the
server's own job threads) and by queue workers, so a job behaves the same wherever it runs.

A job's row holds everything needed to run it (kind and params), and a job's results are committed in
the same transaction that marks it done, so a worker killed mid-job leaves nothing half-stored and the
retry that finishes it stores its results once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from imagevet.catalog.model import Catalog
from imagevet.service.audit_job import AuditRequest, audit_documents
from imagevet.service.db import ImageVersion, Job, utcnow
from imagevet.service.ingest import packages_of
from imagevet.service.records import add_report, record_matches, retrying
from imagevet.service.rescan import Lookup, os_of, rescan_all, stored_package
from imagevet.target.ssh import SshOptions
from imagevet.vuln.ecosystem import ecosystems_for
from imagevet.vuln.matcher import Finding as Match
from imagevet.vuln.matcher import match_packages

KINDS = ("rescan", "audit")
RETRIES = 5


class JobError(RuntimeError):
    """A job that cannot run as asked; its message is what the job's result shows."""


@dataclass(frozen=True)
class JobContext:
    """What jobs need from the process running them."""

    lookup: Callable[[], Lookup | None]
    catalog: Catalog
    today: Callable[[], dt.date] = dt.date.today
    ssh: SshOptions = field(default_factory=SshOptions)  # the service's key and known_hosts (ssh://)


def run_job(make_session: sessionmaker[Session], job_id: str, context: JobContext) -> None:
    with make_session() as db:
        job = db.get(Job, job_id)
        if job is None or job.status == "done":
            return  # already finished by an earlier attempt: a retry must not redo it
        job.status, job.attempts = "running", job.attempts + 1
        db.commit()
        try:
            result = WORK[job.kind](db, job, context)
            job.status, job.result = "done", result
        except Exception as exc:  # a job's failure is recorded, never lost in a thread or worker
            db.rollback()
            failed = db.get(Job, job_id)
            assert failed is not None
            job = failed
            job.status, job.result = "failed", {"error": f"{exc.__class__.__name__}: {exc}"}
        job.finished_at = utcnow()
        db.commit()


def rescan_work(db: Session, job: Job, context: JobContext) -> dict[str, Any]:
    """A rescan; run again when a concurrent writer (another rescan, an audit, a pushed report) added the
    same finding first. Findings are upserts, so running again is safe."""
    lookup = context.lookup()
    if lookup is None:
        raise JobError("no advisory database (serve/worker --db PATH or IMAGEVET_DB)")
    return retrying(db, lambda: rescan_all(db, lookup), RETRIES, 0.05)


def audit_work(db: Session, job: Job, context: JobContext) -> dict[str, Any]:
    """Audit the target, then store the audit and packages reports and this image's findings."""
    request = AuditRequest.from_params(job.params or {})
    if db.get(ImageVersion, request.image) is None:
        raise JobError(f"image {request.image} is no longer registered")
    lookup = context.lookup()
    audit, packages = audit_documents(request, context.catalog, context.today(), lookup, context.ssh)
    rows = packages_of(packages)
    os = os_of(packages)
    ecosystems = ecosystems_for(os) if os is not None else None
    matches: list[Match] = []
    if lookup is not None and ecosystems is not None:
        inventory = [
            stored_package(r["name"], r["version"], r["arch"], r["source"], r["source_version"], r["type"])
            for r in rows
        ]
        matches, _ = match_packages(inventory, ecosystems, lookup)

    def store() -> tuple[list[int], int]:
        reports = [
            add_report(db, request.image, "imagevet/audit/v1", audit, [], []).id,
            add_report(db, request.image, "imagevet/packages/v1", packages, rows, []).id,
        ]
        new = record_matches(db, request.image, matches, "audit", utcnow())
        db.flush()
        return reports, new

    reports, new = retrying(db, store, RETRIES, 0.05)
    return {
        "image": request.image,
        "reports": reports,
        "summary": audit.get("summary"),
        "packages": len(rows),
        "findings": len(matches),
        "new_findings": new,
        "scanned": lookup is not None,
    }


WORK: dict[str, Callable[[Session, Job, JobContext], dict[str, Any]]] = {
    "rescan": rescan_work,
    "audit": audit_work,
}
