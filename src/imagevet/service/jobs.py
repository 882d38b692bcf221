"""Running a job (today: a rescan) and recording it in the jobs table. Used both in-process (a thread of
the server) and by queue workers, so a job behaves the same wherever it runs."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from imagevet.service.db import Job, utcnow
from imagevet.service.rescan import Lookup, rescan_all


def run_rescan_job(make_session: sessionmaker[Session], job_id: str, lookup: Lookup) -> None:
    with make_session() as db:
        job = db.get(Job, job_id)
        if job is None or job.status == "done":
            return  # already finished by an earlier attempt: a retry must not redo it
        job.status, job.attempts = "running", job.attempts + 1
        db.commit()
        try:
            result = rescan_all(db, lookup)
            job.status, job.result = "done", result
        except Exception as exc:  # a job's failure is recorded, never lost in a thread or worker
            db.rollback()
            failed = db.get(Job, job_id)
            assert failed is not None
            job = failed
            job.status, job.result = "failed", {"error": f"{exc.__class__.__name__}: {exc}"}
        job.finished_at = utcnow()
        db.commit()
