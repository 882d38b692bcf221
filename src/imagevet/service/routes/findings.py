"""``/api/v1/findings`` and ``/api/v1/exposure/{vuln_id}``: the vulnerabilities found in the fleet, and
for one advisory (by its id or any alias) the images that have it and the instances running those."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import String, cast, or_, select

from imagevet.service.db import Finding, ImageVersion, Instance
from imagevet.service.routes.deps import READ, Db, ImageQuery
from imagevet.service.schemas import finding_dict, image_dict, instance_dict

router = APIRouter(prefix="/api/v1")


def matches(vuln_id: str) -> Any:
    """Findings for an advisory id or one of its aliases; the aliases are JSON, searched as text (the
    same on SQLite and PostgreSQL), so callers confirm the exact match."""
    return or_(Finding.vuln_id == vuln_id, cast(Finding.aliases, String).like(f'%"{vuln_id}"%'))


def about(finding: Finding, vuln_id: str) -> bool:
    """The exact match the text prefilter cannot make."""
    return finding.vuln_id == vuln_id or vuln_id in (finding.aliases or [])


@router.get("/findings", dependencies=[READ])
def list_findings(
    db: Db,
    vuln: str | None = None,
    package: str | None = None,
    severity: str | None = None,
    image: ImageQuery = None,
) -> list[dict[str, Any]]:
    query = select(Finding).order_by(Finding.id)
    if vuln:
        query = query.where(matches(vuln))
    if package:
        query = query.filter_by(package=package)
    if severity:
        query = query.filter_by(severity=severity)
    if image is not None:
        query = query.filter_by(image_version_id=image)
    rows = db.scalars(query).all()
    if vuln:
        rows = [f for f in rows if about(f, vuln)]
    return [finding_dict(f) for f in rows]


@router.get("/exposure/{vuln_id}", dependencies=[READ])
def exposure(vuln_id: str, db: Db) -> dict[str, Any]:
    findings = [f for f in db.scalars(select(Finding)) if about(f, vuln_id)]
    image_ids = sorted({f.image_version_id for f in findings})
    images = [image_dict(i) for i in db.scalars(select(ImageVersion).where(ImageVersion.id.in_(image_ids)))]
    instances = db.scalars(select(Instance).where(Instance.image_version_id.in_(image_ids))).all()
    return {"vuln_id": vuln_id, "images": images, "instances": [instance_dict(i) for i in instances]}
