"""``/api/v1/images``: image versions, registered by cloud and image id, each with its lifecycle (from the
catalog), its latest audit summary, its findings by severity and the instances running it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from imagevet.service import ingest, views
from imagevet.service.db import REMEDIATION, Finding, ImageVersion, Instance, Report
from imagevet.service.routes.deps import READ, WRITE, Db, Known, Today, image_or_404
from imagevet.service.schemas import ImageIn, ImagePatch, image_dict
from imagevet.service.vocabulary import one_of

router = APIRouter(prefix="/api/v1/images")


@router.post("", status_code=201, dependencies=[WRITE])
def register_image(body: ImageIn, db: Db) -> dict[str, Any]:
    parent_id = None
    if body.parent:
        parent = db.scalars(select(ImageVersion).filter_by(cloud=body.cloud, image_id=body.parent)).first()
        if parent is None:
            raise HTTPException(422, f"parent {body.parent} is not registered on {body.cloud}")
        parent_id = parent.id
    image = ImageVersion(cloud=body.cloud, image_id=body.image_id, release=body.release, layer=body.layer,
                         name=body.name, parent_id=parent_id)  # fmt: skip
    db.add(image)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise HTTPException(409, f"{body.cloud} {body.image_id} is already registered") from None
    return image_dict(image)


@router.get("", dependencies=[READ])
def list_images(
    db: Db,
    known: Known,
    today: Today,
    cloud: str | None = None,
    image_id: str | None = None,
    release: str | None = None,
    remediation: str | None = Query(default=None, pattern=one_of(REMEDIATION)),
    lifecycle: str | None = Query(default=None, pattern=one_of(views.LIFECYCLE)),
) -> list[dict[str, Any]]:
    query = select(ImageVersion).order_by(ImageVersion.id)
    if cloud:
        query = query.filter_by(cloud=cloud)
    if image_id:
        query = query.filter_by(image_id=image_id)
    if release:
        query = query.filter_by(release=release)
    if remediation:
        query = query.filter_by(remediation=remediation)
    rows = []
    for image in db.scalars(query):
        status, days_left = views.lifecycle_of(known, image.release, today)
        if lifecycle is None or status == lifecycle:
            rows.append({**image_dict(image), "lifecycle": status, "support_days_left": days_left})
    return rows


@router.get("/{image}", dependencies=[READ])
def show_image(image: int, db: Db, known: Known, today: Today) -> dict[str, Any]:
    found = image_or_404(db, image)
    audit = db.scalars(
        select(Report).filter_by(image_version_id=image, schema=ingest.AUDIT).order_by(Report.id.desc())
    ).first()
    severities = dict(
        db.execute(
            select(Finding.severity, func.count())
            .filter_by(image_version_id=image)
            .group_by(Finding.severity)
        ).all()
    )
    instances = db.scalars(select(Instance.instance_id).filter_by(image_version_id=image)).all()
    status, days_left = views.lifecycle_of(known, found.release, today)
    return {
        **image_dict(found),
        "lifecycle": status,
        "support_days_left": days_left,
        "replacement": views.replacement(known, found.cloud, found.release, today),
        "audit": ingest.audit_summary(audit.document) if audit else None,
        "vulnerabilities": {str(k): int(v) for k, v in severities.items()},
        "instances": list(instances),
    }


@router.patch("/{image}", dependencies=[WRITE])
def patch_image(image: int, body: ImagePatch, db: Db) -> dict[str, Any]:
    found = image_or_404(db, image)
    if body.remediation is not None:
        if REMEDIATION.index(body.remediation) < REMEDIATION.index(found.remediation):
            raise HTTPException(409, f"remediation moves forward only ({' -> '.join(REMEDIATION)})")
        found.remediation = body.remediation
    if body.release is not None:
        found.release = body.release
    db.commit()
    return image_dict(found)
