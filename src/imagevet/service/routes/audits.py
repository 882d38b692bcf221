"""``/api/v1/images/{image}/audits``: audit a target the service (or its workers) can reach, as a job, and
keep its audit and packages reports as the image's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from imagevet.service.audit_job import AuditRequest, check_request
from imagevet.service.jobs import AUDIT
from imagevet.service.routes.deps import ADMIN, Db, Service, image_or_404, start_job
from imagevet.service.schemas import AuditIn

router = APIRouter(prefix="/api/v1/images/{image}/audits")


@router.post("", status_code=202, dependencies=[ADMIN])
def start_audit(image: int, body: AuditIn, db: Db, service: Service) -> dict[str, Any]:
    """Audit a target this service (or its workers) can reach and keep the audit and packages reports
    as this image's. Admin scope: the audit runs with the service's own file and SSH access."""
    image_or_404(db, image)
    request = AuditRequest(image, body.target, body.profile, tuple(body.checks), body.lifecycle_years,
                           body.sudo, body.timeout, body.region)  # fmt: skip
    try:
        check_request(request)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return start_job(service, db, AUDIT, request.params())
