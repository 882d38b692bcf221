"""``/api/v1/rescans``: re-match every stored inventory against the advisory database (after `db update`),
as a job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from imagevet.service.jobs import RESCAN
from imagevet.service.routes.deps import WRITE, Db, Service, start_job

router = APIRouter(prefix="/api/v1/rescans")


@router.post("", status_code=202, dependencies=[WRITE])
def start_rescan(db: Db, service: Service) -> dict[str, Any]:
    if not service.queued and service.lookup() is None:
        raise HTTPException(409, "the service has no advisory database (serve --db PATH or IMAGEVET_DB)")
    return start_job(service, db, RESCAN)
