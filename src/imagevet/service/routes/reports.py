"""``/api/v1/images/{image}/reports``: the CLI's JSON documents about an image (audit, packages, vuln),
checked whole before anything is stored, and the history of those received."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from imagevet.service import ingest
from imagevet.service.db import Report
from imagevet.service.limits import JSON_KEY
from imagevet.service.records import ReleaseMismatch, add_report, fill_release, retrying
from imagevet.service.routes.deps import READ, WRITE, Db, image_or_404

router = APIRouter(prefix="/api/v1/images/{image}/reports")
RETRIES = 8  # concurrent writers of one image's findings: tries before answering 409
BODY = {"required": True, "description": "An imagevet JSON document.",
        "content": {"application/json": {"schema": {"type": "object"}}}}  # fmt: skip


@router.post("", status_code=201, dependencies=[WRITE], openapi_extra={"requestBody": BODY})
def receive_report(image: int, request: Request, db: Db) -> dict[str, Any]:
    """Checked whole before anything is stored (service/ingest.py). The body was parsed, within
    bounds, by the request guard."""
    document = getattr(request.state, JSON_KEY, None)
    try:
        checked = ingest.check_document(document)
    except ingest.ValidationError as exc:
        raise HTTPException(422, f"not a report imagevet can take: {exc}") from None
    image_or_404(db, image)
    release = ingest.release_of(checked.os)

    def store() -> Report:  # one transaction: the report, the inventory it replaces, its findings
        fill_release(image_or_404(db, image), release)
        report = add_report(db, image, checked.schema, document, checked.packages, checked.findings)
        db.commit()
        return report

    try:
        report = retrying(db, store, RETRIES, 0.02)
    except ReleaseMismatch as exc:
        db.rollback()
        raise HTTPException(409, str(exc)) from None
    except (IntegrityError, OperationalError):
        raise HTTPException(409, "the report conflicted with concurrent writers; retry") from None
    return {"id": report.id, "schema": checked.schema, "received_at": report.received_at.isoformat()}


@router.get("", dependencies=[READ])
def report_history(image: int, db: Db, schema: str | None = None) -> list[dict[str, Any]]:
    image_or_404(db, image)
    query = select(Report).filter_by(image_version_id=image).order_by(Report.id)
    if schema:
        query = query.filter_by(schema=schema)
    return [
        {"id": r.id, "schema": r.schema, "received_at": r.received_at.isoformat()} for r in db.scalars(query)
    ]
