"""Re-match stored inventories against the advisory database without touching the hosts: after `db
update`, image versions whose packages are now known to be vulnerable are flagged (new findings)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from imagevet.model import OsRelease, Package
from imagevet.service.db import Finding, ImageVersion, InventoryPackage, Report, utcnow
from imagevet.vuln.ecosystem import ecosystems_for
from imagevet.vuln.matcher import match_packages

Lookup = Callable[[tuple[str, ...], Iterable[str]], Iterable[Any]]


def os_of(document: dict[str, Any]) -> OsRelease | None:
    raw = document.get("os")
    if not isinstance(raw, dict) or not raw.get("id"):
        return None
    return OsRelease(
        id=str(raw["id"]),
        version_id=str(raw.get("version_id") or ""),
        name=str(raw.get("name") or ""),
        pretty_name=str(raw.get("pretty_name") or ""),
        variant="",
        version_codename="",
        id_like=tuple(raw.get("id_like") or ()),
        family=str(raw.get("family") or ""),
        source="report",
    )


def rescan_image(session: Session, image: ImageVersion, lookup: Lookup) -> int:
    """Match the image's latest inventory; upsert findings; return how many are new."""
    latest = session.scalars(
        select(Report)
        .where(Report.image_version_id == image.id, Report.schema == "imagevet/packages/v1")
        .order_by(Report.id.desc())
        .limit(1)
    ).first()
    os = os_of(latest.document) if latest else None
    ecosystems = ecosystems_for(os) if os else None
    if ecosystems is None:
        return 0
    rows = session.scalars(select(InventoryPackage).where(InventoryPackage.image_version_id == image.id))
    packages = [
        Package(
            p.name, p.version, p.arch, p.source or p.name, p.source_version or p.version, p.type, purl=p.purl
        )
        for p in rows
    ]
    findings, _ = match_packages(packages, ecosystems, lookup)
    known = {
        (f.vuln_id, f.package): f
        for f in session.scalars(select(Finding).where(Finding.image_version_id == image.id))
    }
    new = 0
    now = utcnow()
    for finding in findings:
        existing = known.get((finding.id, finding.package))
        if existing is not None:
            existing.last_seen = now
            continue
        session.add(
            Finding(
                image_version_id=image.id,
                vuln_id=finding.id,
                aliases=list(finding.aliases),
                package=finding.package,
                installed=finding.installed,
                fixed=finding.fixed,
                severity=finding.severity,
                origin="rescan",
                first_seen=now,
                last_seen=now,
            )
        )
        new += 1
    return new


def rescan_all(session: Session, lookup: Lookup) -> dict[str, Any]:
    newly_exposed = []
    images = list(session.scalars(select(ImageVersion).order_by(ImageVersion.id)))
    for image in images:
        if rescan_image(session, image, lookup):
            newly_exposed.append(image.id)
    session.commit()
    return {"images": len(images), "newly_exposed": newly_exposed}
