"""Adding results to the inventory: a report with the inventory it replaces and the findings it brings,
and matcher results recorded as findings. Nothing here commits: the caller decides what one transaction
holds (a pushed report; an audit job's reports together with the job's completion)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from imagevet.errors import ImagevetError
from imagevet.service.db import Finding, ImageVersion, InventoryPackage, Report, utcnow
from imagevet.service.ingest import PACKAGES
from imagevet.vuln.matcher import Finding as Match

T = TypeVar("T")


def retrying(db: Session, work: Callable[[], T], attempts: int, pause: float) -> T:
    """``work()`` again after a rollback when a concurrent writer got there first: it inserted the same
    finding (unique constraint) or held SQLite's write lock. Findings are upserts, so running the work
    again is safe. The last attempt's error propagates."""
    for attempt in range(attempts):
        try:
            return work()
        except (IntegrityError, OperationalError):
            db.rollback()
            if attempt == attempts - 1:
                raise
            time.sleep(pause * (attempt + 1))
    raise ValueError("attempts must be at least 1")


def add_report(
    db: Session,
    image: int,
    schema: str,
    document: Any,
    packages: list[dict[str, str]],
    findings: list[dict[str, Any]],
) -> Report:
    """The report, the inventory it replaces (packages reports), the findings it adds or sees again."""
    report = Report(image_version_id=image, schema=schema, document=document)
    db.add(report)
    if schema == PACKAGES:
        db.query(InventoryPackage).filter_by(image_version_id=image).delete()
        db.add_all(InventoryPackage(image_version_id=image, **row) for row in packages)
    now = utcnow()
    known = {(f.vuln_id, f.package): f for f in db.scalars(select(Finding).filter_by(image_version_id=image))}
    for row in findings:
        key = (row["vuln_id"], row["package"])
        existing = known.get(key)
        if existing:
            existing.last_seen = now
        else:  # remembered, so a second row for the same finding updates this one rather than colliding
            known[key] = Finding(
                image_version_id=image, origin="report", first_seen=now, last_seen=now, **row
            )
            db.add(known[key])
    db.flush()
    return report


class ReleaseMismatch(ImagevetError):
    """The report's OS is not the release the image was registered with."""


def fill_release(image: ImageVersion, release: str | None) -> None:
    """An image registered without a release takes the one its report's OS names (``debian-12``); one
    registered with another release refuses the report: the report is of another image, or the
    registration is wrong (PATCH the image's release to correct it)."""
    if release is None or image.release == release:
        return
    if image.release:
        raise ReleaseMismatch(
            f"the report's os is not this image's release ({image.release}); push it to the right image, "
            "or correct the image's release (PATCH /api/v1/images/ID)"
        )
    image.release = release


def record_matches(db: Session, image: int, matches: list[Match], origin: str, now: dt.datetime) -> int:
    """Upsert an image's findings from matcher results; returns how many are new."""
    rows = db.scalars(select(Finding).where(Finding.image_version_id == image))
    known = {(f.vuln_id, f.package): f for f in rows}
    new = 0
    for match in matches:
        existing = known.get((match.id, match.package))
        if existing is not None:
            existing.last_seen = now
            continue
        finding = Finding(
            image_version_id=image, vuln_id=match.id, aliases=list(match.aliases), package=match.package,
            installed=match.installed, fixed=match.fixed, severity=match.severity, origin=origin,
            first_seen=now, last_seen=now,
        )  # fmt: skip
        db.add(finding)
        known[(match.id, match.package)] = finding
        new += 1
    return new
