"""The report of `imagevet vuln`: ``document`` (``imagevet/vuln/v1`` as data), ``Format`` (table, json,
sarif, html) and ``render``. The gate (``--fail-on``) is part of the report model, judged on every finding
that is not waived, whatever ``--severity`` shows."""

from __future__ import annotations

import json
import operator
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from imagevet import __version__
from imagevet.model import OsRelease, Severity, TargetInfo, Unknown, Waiver
from imagevet.report.formats import render_shared
from imagevet.report.json_report import os_dict, target_dict

if TYPE_CHECKING:  # the CLI imports Format at start-up: the matcher and database stay unimported
    from imagevet.facts.collection import Vulnerabilities
    from imagevet.report.filter import SeverityFilter
    from imagevet.vuln.coverage import Verdict
    from imagevet.vuln.db import DatabaseStatus
    from imagevet.vuln.matcher import Finding
    from imagevet.waivers import WaiverSet

SCHEMA = "imagevet/vuln/v1"
_SEVERITY_OF = operator.attrgetter("severity")
_FIXED_OF = operator.attrgetter("fixed")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"


@dataclass(frozen=True)
class VulnReport:
    target: TargetInfo
    os: OsRelease | None
    ecosystems: tuple[str, ...]
    db: DatabaseStatus
    findings: tuple[tuple[Finding, Waiver | None], ...]
    notices: tuple[str, ...]
    coverage: Verdict
    fail_on: str | None = "high"  # a severity label (``unknown`` is the lowest); None: never

    def active_findings(self) -> list[Finding]:
        return [finding for finding, waiver in self.findings if waiver is None]

    def gate_failures(self) -> list[Finding]:
        """The findings, not waived, at or above ``fail_on``: any of them fails the run."""
        if self.fail_on is None:
            return []
        floor = Severity.of(self.fail_on).rank
        return [f for f in self.active_findings() if Severity.of(f.severity).rank >= floor]


def build_report(
    target: TargetInfo,
    os: OsRelease | Unknown,
    found: Vulnerabilities,
    db: DatabaseStatus,
    waivers: WaiverSet | None,
    ignore_unfixed: bool,
    fail_on: str | None = "high",
) -> VulnReport:
    """The report of ``found``: waivers matched (and the unmatched ones noticed), unfixed findings left
    out with ``ignore_unfixed``. Every other finding is kept; ``--severity`` filters only the document."""
    notices = [f"warning: {w}" for w in found.coverage.warnings]
    notices += list(waivers.notices) if waivers else []
    notices += [f"advisory skipped: {w}" for w in found.warnings]
    used: set[str] = set()
    rows = []
    for finding in found.findings:
        if ignore_unfixed and not finding.fixed:
            continue
        waiver = None
        if waivers:
            for key in (finding.id, *finding.aliases):
                if key in waivers.active:
                    waiver = waivers.active[key]
                    used.add(key)
                    break
        rows.append((finding, waiver))
    if waivers:
        notices += [f"waiver for {key} matched no finding" for key in waivers.active if key not in used]
    return VulnReport(
        target,
        os if isinstance(os, OsRelease) else None,
        found.ecosystems.names,
        db,
        tuple(rows),
        tuple(notices),
        found.coverage,
        fail_on,
    )


def finding_dict(finding: Finding, waiver: Waiver | None) -> dict[str, Any]:
    # Unpacked at once rather than read field by field: this runs once per finding of a scan.
    id, aliases, package, source, installed, fixed, severity, score, summary, ecosystem, matched, arch = (
        finding
    )
    return {
        "id": id,
        "aliases": list(aliases),
        "package": package,
        "arch": arch,
        "source": source,
        "installed": installed,
        "fixed": fixed,
        "severity": severity,
        "score": score,
        "status": "fixed" if fixed else "unfixed",  # Finding.status
        "summary": summary,
        "ecosystem": ecosystem,
        "matched": matched,
        "waiver": None
        if waiver is None
        else {"reason": waiver.reason, "expires": waiver.expires.isoformat() if waiver.expires else None},
    }


def coverage_dict(verdict: Verdict) -> dict[str, Any]:
    """What the database held for the image's ecosystem when it was matched (always covered here: an
    uncovered ecosystem is refused before any report is made)."""
    record = verdict.record
    return {
        "ecosystem": verdict.ecosystem,
        "records": record.records if record else 0,
        "complete": bool(record and record.complete),
        "imported": (record.archive_imported if record.complete else record.imported) if record else None,
        "source": (record.archive_source if record.complete else record.source) if record else None,
        "age_days": round(verdict.age_days, 2) if verdict.age_days is not None else None,
        "warnings": list(verdict.warnings),
    }


def summary(report: VulnReport) -> dict[str, Any]:
    from imagevet.vuln.matcher import SEVERITY_ORDER

    active = report.active_findings()
    by_severity = dict.fromkeys(reversed(SEVERITY_ORDER), 0)
    # counted by C-level loops (a scan can have tens of thousands: 6.5 ms as a Python loop for 19,000)
    by_severity.update(Counter(map(_SEVERITY_OF, active)))
    fixed = sum(map(bool, map(_FIXED_OF, active)))
    return {
        "total": len(active),
        "waived": len(report.findings) - len(active),
        "fixed": fixed,
        "unfixed": len(active) - fixed,
        "by_severity": by_severity,
    }


def document(report: VulnReport, shown: SeverityFilter | None = None) -> dict[str, Any]:
    """The scan as plain data. With ``shown`` (``--severity``) only those findings are listed and a
    ``filter`` field says how many were not, naming the hidden ones that fail the gate; ``summary`` is
    always of every finding. The gate is no field of ``imagevet/vuln/v1`` (docs/vuln.md): the CLI exits on
    ``VulnReport.gate_failures``."""
    rows = [(f, w) for f, w in report.findings if shown is None or shown.shows(f.severity)]
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "tool": {"name": "imagevet", "version": __version__},
        "target": target_dict(report.target),
        "os": os_dict(report.os),
        "ecosystem": list(report.ecosystems),
        "db": {"path": report.db.path, "updated": report.db.updated, "records": report.db.records},
        "coverage": coverage_dict(report.coverage),
        "findings": [finding_dict(f, w) for f, w in rows],
        "summary": summary(report),
        "notices": list(report.notices),
    }
    if shown is not None:
        failing = [f.id for f in report.gate_failures() if not shown.shows(f.severity)]
        data["filter"] = shown.note(len(report.findings) - len(rows), failing)
    return data


def compact_json(document: Any) -> str:
    """JSON without indentation; UTF-8 as it is, one final newline, as json_report.to_json. orjson writes
    it: 10 ms for 20,000 findings where json's C encoder takes 70 (``indent`` even falls back to the
    pure-Python one); the bytes are those of ``json.dumps(ensure_ascii=False, separators=(",", ":"))``
    for every document a scan makes (tests/report/test_vuln_json.py). What orjson refuses (a lone
    surrogate from an undecodable name, an integer over 64 bits) goes to json, which says it as before."""
    encoded = compact_json_utf8(document)
    return encoded.decode() if isinstance(encoded, bytes) else encoded


def compact_json_utf8(document: Any) -> bytes | str:
    """compact_json's text as the UTF-8 bytes orjson writes, for the command line to hand to stdout or a
    file as they are (decoding 7 MB of findings to text and encoding it back cost about 10 ms of a 0.3 s
    scan); json's text where orjson refuses the document, to be written, or refused, as before."""
    import orjson

    try:
        return orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def render_output(
    data: dict[str, Any], fmt: Format, *, color: bool = False, width: int = 80, pretty: bool = False
) -> bytes | str:
    """What the command line writes: ``render``, with compact JSON and SARIF as UTF-8 bytes."""
    if fmt is Format.JSON and not pretty:
        return compact_json_utf8(data)
    if fmt is Format.SARIF and not pretty:
        from imagevet.report.sarif import vuln_log

        return compact_json_utf8(vuln_log(data))
    return render(data, fmt, color=color, width=width, pretty=pretty)


def render(
    data: dict[str, Any], fmt: Format, *, color: bool = False, width: int = 80, pretty: bool = False
) -> str:
    """``data`` (a vuln document) as ``fmt``; ``color`` and ``width`` are for the table. JSON and SARIF
    are compact unless ``pretty`` (``--pretty``): indented, as the other reports."""
    if fmt is Format.JSON and not pretty:
        return compact_json(data)
    if fmt is Format.SARIF and not pretty:
        from imagevet.report.sarif import vuln_log

        return compact_json(vuln_log(data))
    shared = render_shared(data, fmt.value, "vuln")
    if shared is not None:
        return shared
    from imagevet.report.vuln_table import render as table

    return table(data, color=color, width=width)
