"""OSV records (https://ossf.github.io/osv-schema/): parse and normalise what matching needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from imagevet.vuln.cvss import cvss3_base_score, severity_of_score

# Distro ratings, normalised: Red Hat family's words, Ubuntu's priorities, Debian's urgency.
_RATINGS = {
    "critical": "critical",
    "important": "high",
    "high": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
    "negligible": "low",
    "unimportant": "low",
}
_SUMMARY_RATING = re.compile(r"^\s*(Critical|Important|Moderate|Low)\s*:", re.IGNORECASE)
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")


class OsvError(ValueError):
    """A record that does not follow the OSV schema where matching depends on it."""


@dataclass(frozen=True)
class Affected:
    ecosystem: str
    package: str
    ranges: tuple[tuple[tuple[str, str], ...], ...]  # per ECOSYSTEM range: ((event, version), ...)
    versions: tuple[str, ...]
    severity: str | None  # ecosystem_specific / database_specific rating, normalised


@dataclass(frozen=True)
class Advisory:
    id: str
    modified: str
    withdrawn: str | None
    summary: str
    aliases: tuple[str, ...]  # CVE and other ids this advisory covers (aliases, related, upstream)
    severity: str  # critical | high | medium | low | unknown
    score: float | None
    affected: tuple[Affected, ...]


def _rating(value: Any) -> str | None:
    if isinstance(value, str):
        return _RATINGS.get(value.strip().lower())
    if isinstance(value, dict):
        for key in ("severity", "priority", "urgency"):
            found = _rating(value.get(key))
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _rating(item.get("score") if isinstance(item, dict) else item)
            if found:
                return found
    return None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def parse_record(record: Any) -> Advisory:
    if not isinstance(record, dict):
        raise OsvError("record is not a JSON object")
    advisory_id = record.get("id")
    if not isinstance(advisory_id, str) or not advisory_id:
        raise OsvError("record has no id")
    affected_raw = record.get("affected")
    if not isinstance(affected_raw, list):
        raise OsvError(f"{advisory_id}: 'affected' is not a list")
    score = None
    for item in record.get("severity") or []:
        if isinstance(item, dict) and str(item.get("type", "")).startswith("CVSS_V3"):
            computed = cvss3_base_score(str(item.get("score", "")))
            if computed is not None:
                score = max(score or 0.0, computed)
    affected = []
    ratings: list[str] = []
    for entry in affected_raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("package"), dict):
            raise OsvError(f"{advisory_id}: an affected entry has no package")
        package = entry["package"]
        if not isinstance(package.get("ecosystem"), str) or not isinstance(package.get("name"), str):
            raise OsvError(f"{advisory_id}: an affected package lacks ecosystem or name")
        ranges = []
        for range_raw in entry.get("ranges") or []:
            if not isinstance(range_raw, dict) or range_raw.get("type") != "ECOSYSTEM":
                continue  # GIT and SEMVER ranges do not apply to OS packages
            events = []
            for event in range_raw.get("events") or []:
                if not isinstance(event, dict) or len(event) != 1:
                    raise OsvError(f"{advisory_id}: a range event must have exactly one key")
                ((kind, version),) = event.items()
                if kind not in ("introduced", "fixed", "last_affected", "limit") or not isinstance(
                    version, str
                ):
                    raise OsvError(f"{advisory_id}: unknown range event {kind!r}")
                events.append((kind, version))
            ranges.append(tuple(events))
        rating = _rating(entry.get("ecosystem_specific")) or _rating(entry.get("database_specific"))
        if rating:
            ratings.append(rating)
        affected.append(
            Affected(
                package["ecosystem"],
                package["name"],
                tuple(ranges),
                tuple(_strings(entry.get("versions"))),
                rating,
            )
        )
    summary = str(record.get("summary") or record.get("details") or "").strip().splitlines()[0:1]
    summary_text = summary[0] if summary else ""
    match = _SUMMARY_RATING.match(summary_text)
    record_rating = _rating(record.get("database_specific")) or _rating(record.get("severity"))
    if match:
        ratings.append(_RATINGS[match.group(1).lower()])
    if record_rating:
        ratings.append(record_rating)
    if score is not None:
        severity = severity_of_score(score)
    elif ratings:
        order = ["low", "medium", "high", "critical"]
        severity = max(ratings, key=order.index)
    else:
        severity = "unknown"
    aliases: list[str] = []
    for value in (
        _strings(record.get("aliases")) + _strings(record.get("related")) + _strings(record.get("upstream"))
    ):
        found = _CVE.search(value)
        alias = found.group(0) if found and value.endswith(found.group(0)) else value
        if alias != advisory_id and alias not in aliases:
            aliases.append(alias)
    return Advisory(
        id=advisory_id,
        modified=str(record.get("modified", "")),
        withdrawn=record.get("withdrawn") if isinstance(record.get("withdrawn"), str) else None,
        summary=summary_text,
        aliases=tuple(aliases),
        severity=severity,
        score=score,
        affected=tuple(affected),
    )
