"""``/api/v1/jobs``: the jobs that rescans and audits started, newest first; one job; cancelling one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import select

from imagevet.service import jobs
from imagevet.service.db import JOB_STATUSES, Job
from imagevet.service.routes.deps import ADMIN, READ, Db, Service
from imagevet.service.schemas import job_dict
from imagevet.service.vocabulary import one_of

router = APIRouter(prefix="/api/v1/jobs")
JobId = Annotated[str, Path(max_length=36, description="A job's id.")]


@router.get("", dependencies=[READ])
def list_jobs(
    db: Db,
    kind: str | None = Query(default=None, max_length=32),
    status: str | None = Query(default=None, pattern=one_of(JOB_STATUSES)),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[dict[str, Any]]:
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if kind:
        query = query.filter_by(kind=kind)
    if status:
        query = query.filter_by(status=status)
    return [job_dict(j) for j in db.scalars(query)]


@router.get("/{job_id}", dependencies=[READ])
def show_job(job_id: JobId, db: Db) -> dict[str, Any]:
    job = db.get(Job, job_id)
    if job is None:
        raise HTTPException(404, "no such job")
    return job_dict(job)


@router.delete("/{job_id}", dependencies=[ADMIN])
def cancel_job(job_id: JobId, service: Service) -> dict[str, Any]:
    """Cancel a queued or running job (admin): it shows ``cancelled`` at once, and a running attempt
    stops within a second, storing nothing. A finished job cannot be cancelled (409)."""
    job = jobs.cancel(service.make_session, job_id)
    if job is None:
        raise HTTPException(404, "no such job")
    if job.status != "cancelled":
        raise HTTPException(409, f"the job is already {job.status}")
    return job_dict(job)
