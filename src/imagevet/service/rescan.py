"""Re-match stored inventories against the advisory database without touching the hosts: after `db
update`, image versions whose packages are now known to be vulnerable are flagged (new findings).

A fleet's images share most packages, so each distinct package (per ecosystem) is matched once, with the
CLI's own matcher, and the findings are then given to every image that has that package."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from imagevet.model import OsRelease, Package
from imagevet.service import ingest
from imagevet.service.db import ImageVersion, InventoryPackage, Report, utcnow
from imagevet.service.records import record_matches
from imagevet.vuln.coverage import Advisories, CoveragePolicy
from imagevet.vuln.ecosystem import Ecosystems, ecosystems_for
from imagevet.vuln.matcher import Finding as Match
from imagevet.vuln.matcher import match_packages

Lookup = Callable[[tuple[str, ...], Iterable[str]], Iterable[Any]]
Key = tuple[str, str, str]  # package name, version, type
BATCH = 200


def os_of(document: dict[str, Any]) -> OsRelease | None:
    """The OS of a stored report; None when it has none, or one the service would no longer accept
    (reports stored before the service checked them)."""
    try:
        return ingest.os_of(document)
    except ingest.ValidationError:
        return None


def stored_package(
    name: str, version: str, arch: str, source: str, source_version: str, kind: str
) -> Package:
    """A package as the matcher takes it, from an inventory row (an empty source is the binary's own)."""
    return Package(name, version, arch, source or name, source_version or version, kind)


def _ecosystems_by_image(session: Session) -> dict[int, Ecosystems]:
    """Each image's ecosystems, from the OS of its latest packages report."""
    latest = (
        select(func.max(Report.id))
        .where(Report.schema == ingest.PACKAGES)
        .group_by(Report.image_version_id)
        .scalar_subquery()
    )
    found = {}
    # Only the "os" member of each document: the packages lists stay in the database.
    for image_id, os_document in session.execute(
        select(Report.image_version_id, Report.document["os"]).where(Report.id.in_(latest))
    ):
        os = os_of({"os": os_document}) if isinstance(os_document, dict) else None
        ecosystems = ecosystems_for(os) if os else None
        if ecosystems is not None:
            found[image_id] = ecosystems
    return found


def coverage_problem(lookup: Lookup, ecosystems: Ecosystems, now: Any) -> str:
    """Why the database cannot decide for these ecosystems (as the CLI judges it), or ""."""
    verdict = Advisories.of_database(lookup, CoveragePolicy(now)).verdict(ecosystems.names)
    return verdict.problem


def rescan_all(
    session: Session, lookup: Lookup, checkpoint: Callable[[], None] = lambda: None
) -> dict[str, Any]:
    """Match every image's inventory again. Large fleets are committed in batches (memory stays flat),
    each after ``checkpoint()`` (which raises when the job must stop); the last batch is left for the
    caller to commit, with the job's completion. Images whose ecosystem the database does not cover, or
    covers with stale data, are not matched (no findings would mean nothing): the result lists them under
    ``undecided`` with the reason."""
    by_image = _ecosystems_by_image(session)
    groups: dict[Ecosystems, list[int]] = defaultdict(list)
    for image_id, ecosystems in by_image.items():
        groups[ecosystems].append(image_id)
    newly_exposed: list[int] = []
    undecided: list[dict[str, Any]] = []
    distinct_total = 0
    now = utcnow()
    for ecosystems, image_ids in groups.items():
        problem = coverage_problem(lookup, ecosystems, now)
        if problem:
            undecided.append(
                {"ecosystem": ecosystems.names[0], "images": sorted(image_ids), "reason": problem}
            )
            continue
        p = InventoryPackage
        columns = (p.name, p.version, p.type, p.source, p.source_version, p.arch)
        rows = session.execute(select(*columns).where(p.image_version_id.in_(image_ids)).distinct()).all()
        distinct_total += len(rows)
        packages = [stored_package(n, v, a, s, sv, t) for n, v, t, s, sv, a in rows]
        matches, _ = match_packages(packages, ecosystems, lookup)
        checkpoint()
        by_key: dict[tuple[str, str], list[Match]] = defaultdict(list)
        for match in matches:
            by_key[(match.package, match.installed)].append(match)
        if not by_key:
            continue
        for done, image_id in enumerate(image_ids, start=1):
            if done % BATCH == 0:
                checkpoint()
                session.commit()  # bounded transactions: memory stays flat on large fleets
            mine = session.execute(
                select(InventoryPackage.name, InventoryPackage.version).where(
                    InventoryPackage.image_version_id == image_id
                )
            ).all()
            found = [m for name, version in mine for m in by_key.get((name, version), ())]
            if found and record_matches(session, image_id, found, "rescan", now):
                newly_exposed.append(image_id)
    images = session.scalar(select(func.count()).select_from(ImageVersion)) or 0
    return {
        "images": images,
        "matched_packages": distinct_total,
        "newly_exposed": sorted(newly_exposed),
        "undecided": undecided,
    }
