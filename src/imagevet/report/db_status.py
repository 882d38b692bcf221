"""The report of `imagevet db status`: ``document`` (``imagevet/db-status/v2`` as data), ``Format``
(table, json) and ``render``: what the advisory database covers, per ecosystem, judged at ``now``."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from imagevet.report.json_report import to_json

if TYPE_CHECKING:
    from imagevet.vuln.db import DatabaseStatus

SCHEMA = "imagevet/db-status/v2"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


def document(status: DatabaseStatus, max_db_age: float, now: dt.datetime) -> dict[str, Any]:
    """The database's coverage as plain data; an ecosystem older than ``max_db_age`` days is stale."""
    from imagevet.vuln.coverage import parse_time

    def age(stamp: str | None) -> float | None:
        moment = parse_time(stamp)
        return None if moment is None else round(max((now - moment).total_seconds() / 86400, 0.0), 2)

    rows: list[dict[str, Any]] = []
    for record in sorted(status.coverage.values(), key=lambda r: r.ecosystem):
        days = age(record.archive_imported if record.complete else record.imported)
        rows.append(
            {
                "ecosystem": record.ecosystem,
                "records": record.records,
                "complete": record.complete,
                "imported": record.imported,
                "source": record.source,
                "archive_imported": record.archive_imported,
                "archive_source": record.archive_source,
                "age_days": days,
                "stale": days is None or days > max_db_age,
            }
        )
    return {
        "schema": SCHEMA,
        "path": status.path,
        "updated": status.updated,
        "age_days": age(status.updated),
        "max_db_age": max_db_age,
        "records": status.records,
        "size_bytes": status.size_bytes,
        "ecosystems": [e.__dict__ for e in status.ecosystems],
        "coverage": rows,
    }


def render(data: dict[str, Any], fmt: Format) -> str:
    """``data`` (a db-status document) as ``fmt``."""
    if fmt is Format.JSON:
        return to_json(data)
    lines = [
        f"{data['path']}: {data['records']} advisories, {data['size_bytes'] / 1e6:.1f} MB, updated "
        f"{data['updated'] or 'never'}"
    ]
    lines += [f"  {'ecosystem':<34} {'records':>8}  {'age (days)':>10}  coverage  source"]
    for r in data["coverage"]:
        shown = "?" if r["age_days"] is None else str(r["age_days"])
        kind, source = ("complete", r["archive_source"]) if r["complete"] else ("partial", r["source"])
        flag = "  STALE" if r["stale"] else ""
        lines.append(f"  {r['ecosystem']:<34} {r['records']:>8}  {shown:>10}  {kind:<8}  {source}{flag}")
    return "\n".join(lines) + "\n"
