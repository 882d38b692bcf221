"""What the dashboard shows, computed from the database and the catalog (no HTML here)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from imagevet.catalog.lifecycle import END_OF_LIFE, EXTENDED_ONLY, SUPPORTED, lifecycle_status
from imagevet.catalog.model import Catalog
from imagevet.service.db import Finding, ImageVersion, Instance, Report
from imagevet.service.ingest import AUDIT, audit_summary
from imagevet.service.payload import cleaned
from imagevet.vuln.matcher import SEVERITY_ORDER

SEVERITIES = tuple(reversed(SEVERITY_ORDER))  # an advisory's severities, worst first, as the matcher rates
UNKNOWN = "unknown"  # an image whose release the catalog does not know
LIFECYCLE = (SUPPORTED, EXTENDED_ONLY, END_OF_LIFE, UNKNOWN)  # what lifecycle_of can say
NEARING_DAYS = 365


def lifecycle_of(catalog: Catalog, release_id: str, today: dt.date) -> tuple[str, int | None]:
    release = catalog.release(release_id) if release_id else None
    if release is None:
        return UNKNOWN, None
    status = lifecycle_status(release, today)
    return status.status, status.days_left


def replacement(catalog: Catalog, cloud: str, release_id: str, today: dt.date) -> str | None:
    """The newest supported release of the same distribution offered officially on the cloud, when the
    image's own release is unsupported or has less than a year left."""
    release = catalog.release(release_id) if release_id else None
    if release is None:
        return None
    status, days_left = lifecycle_of(catalog, release_id, today)
    if status == SUPPORTED and days_left is not None and days_left >= NEARING_DAYS:
        return None
    offerings = catalog.clouds[cloud].offerings if cloud in catalog.clouds else ()
    candidates = []
    for offering in offerings:
        other = catalog.release(offering.release)
        if other is None or other.distro != release.distro or other.release == release.release:
            continue
        other_status, other_days = lifecycle_of(catalog, other.release, today)
        if other_status == SUPPORTED and other.lts and (other_days or 0) > (days_left or 0):
            candidates.append((other.eol or dt.date.max, other.release))
    return max(candidates)[1] if candidates else None


def severity_over_time(db: Session, days: int = 14) -> list[tuple[str, list[tuple[str, int]]]]:
    """New findings per day by severity, for the last ``days`` days that had any. Grouped in the database
    (``date()`` is a function on SQLite and PostgreSQL alike), so a fleet's findings never load here."""
    day = func.date(Finding.first_seen)
    counts: dict[str, Counter[str]] = {}
    for when, severity, count in db.execute(
        select(day, Finding.severity, func.count()).group_by(day, Finding.severity)
    ):
        counts.setdefault(str(when), Counter())[severity if severity in SEVERITIES else "unknown"] += count
    return [(when, [(s, by[s]) for s in SEVERITIES if by[s]]) for when, by in sorted(counts.items())[-days:]]


def overview(db: Session, catalog: Catalog, today: dt.date) -> dict[str, Any]:
    images = list(db.scalars(select(ImageVersion).order_by(ImageVersion.id)))
    severity = dict(db.execute(select(Finding.severity, func.count()).group_by(Finding.severity)).all())
    exposed = dict(
        db.execute(select(Finding.image_version_id, func.count()).group_by(Finding.image_version_id)).all()
    )
    lifecycle = {}
    rows: list[dict[str, Any]] = []
    for image in images:
        status, days_left = lifecycle_of(catalog, image.release, today)
        lifecycle[image.id] = status
        rows.append({
            "image": image, "status": status, "days_left": days_left, "findings": exposed.get(image.id, 0),
            "replacement": replacement(catalog, image.cloud, image.release, today),
        })  # fmt: skip
    per_day = severity_over_time(db)
    return {
        "counts": {
            "images": len(images),
            "instances": db.scalar(select(func.count()).select_from(Instance)) or 0,
            "findings": sum(severity.values()),
            "exposed": len(exposed),
        },
        "by_severity": [(s, int(severity.get(s, 0)), s) for s in SEVERITIES],
        "by_lifecycle": [(k, v, k) for k, v in sorted(Counter(lifecycle.values()).items())],
        "per_day": per_day,
        "nearing": [r for r in rows if r["status"] != SUPPORTED or (r["days_left"] or 0) < NEARING_DAYS],
        "rows": rows,
    }


def _text(value: Any) -> str:
    return cleaned(value) if isinstance(value, str) else ""


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def audit_for_page(document: Any) -> dict[str, Any] | None:
    """A stored audit as the page shows it: only the fields the page reads, each of the type it expects.
    Reports are checked when they arrive (service/ingest.py); this keeps the page working for any stored
    before that, whatever their shape."""
    if not isinstance(document, dict):
        return None
    results = []
    for result in _objects(document.get("results")):
        evidence = [
            {"detail": _text(e.get("detail")), "path": _text(e.get("path")),
             "line": e.get("line") if isinstance(e.get("line"), int) else None}
            for e in _objects(result.get("evidence"))
        ]  # fmt: skip
        steps = [{k: _text(s.get(k)) for k in ("kind", "run", "path", "content", "note")}
                 for s in _objects(result.get("remediation"))]  # fmt: skip
        results.append({
            **{k: _text(result.get(k)) for k in ("check", "title", "status", "severity")},
            "evidence": evidence, "remediation": steps,
        })  # fmt: skip
    return {"results": results, "summary": audit_summary(document)}


def image_page(db: Session, catalog: Catalog, image: ImageVersion, today: dt.date) -> dict[str, Any]:
    def latest(schema: str) -> dict[str, Any] | None:
        report = db.scalars(
            select(Report).filter_by(image_version_id=image.id, schema=schema).order_by(Report.id.desc())
        ).first()
        return report.document if report else None

    status, days_left = lifecycle_of(catalog, image.release, today)
    findings = list(
        db.scalars(select(Finding).filter_by(image_version_id=image.id).order_by(Finding.severity))
    )
    return {
        "image": image,
        "status": status,
        "days_left": days_left,
        "replacement": replacement(catalog, image.cloud, image.release, today),
        "audit": audit_for_page(latest(AUDIT)),
        "findings": findings,
        "instances": list(db.scalars(select(Instance).filter_by(image_version_id=image.id))),
    }
