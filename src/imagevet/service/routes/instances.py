"""``/api/v1/instances``: which instances run which image version (registering one again moves it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from sqlalchemy import select

from imagevet.service.db import ImageVersion, Instance, utcnow
from imagevet.service.routes.deps import READ, WRITE, Db, ImageQuery
from imagevet.service.schemas import InstanceIn, instance_dict

router = APIRouter(prefix="/api/v1/instances")


@router.post("", status_code=201, dependencies=[WRITE])
def register_instance(body: InstanceIn, db: Db) -> dict[str, Any]:
    image = db.scalars(select(ImageVersion).filter_by(cloud=body.cloud, image_id=body.image_id)).first()
    if image is None:
        raise HTTPException(422, f"image {body.image_id} is not registered on {body.cloud}")
    instance = db.scalars(select(Instance).filter_by(cloud=body.cloud, instance_id=body.instance_id)).first()
    if instance is None:
        instance = Instance(cloud=body.cloud, instance_id=body.instance_id, image_version_id=image.id)
        db.add(instance)
    else:
        instance.image_version_id, instance.updated_at = image.id, utcnow()
    db.commit()
    return instance_dict(instance)


@router.get("", dependencies=[READ])
def list_instances(db: Db, image: ImageQuery = None) -> list[dict[str, Any]]:
    query = select(Instance).order_by(Instance.id)
    if image is not None:
        query = query.filter_by(image_version_id=image)
    return [instance_dict(i) for i in db.scalars(query)]
