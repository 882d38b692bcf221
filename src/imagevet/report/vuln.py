"""Renderers for `imagevet vuln`: table, JSON (imagevet/vuln/v1), SARIF 2.1.0."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from imagevet import __version__
from imagevet.facts.collection import Vulnerabilities
from imagevet.model import OsRelease, TargetInfo, Unknown, Waiver
from imagevet.report.json_report import os_dict, target_dict
from imagevet.vuln.coverage import Verdict, describe
from imagevet.vuln.db import DatabaseStatus
from imagevet.vuln.matcher import SEVERITY_ORDER, Finding
from imagevet.waivers import WaiverSet

SCHEMA = "imagevet/vuln/v1"
_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "unknown": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "unknown": "0.0"}


@dataclass(frozen=True)
class VulnReport:
    target: TargetInfo
    os: OsRelease | None
    ecosystems: tuple[str, ...]
    db: DatabaseStatus
    findings: tuple[tuple[Finding, Waiver | None], ...]
    notices: tuple[str, ...]
    coverage: Verdict

    def active_findings(self) -> list[Finding]:
        return [finding for finding, waiver in self.findings if waiver is None]


def build_report(
    target: TargetInfo,
    os: OsRelease | Unknown,
    found: Vulnerabilities,
    db: DatabaseStatus,
    waivers: WaiverSet | None,
    severities: set[str] | None,
    ignore_unfixed: bool,
) -> VulnReport:
    notices = [f"warning: {w}" for w in found.coverage.warnings]
    notices += list(waivers.notices) if waivers else []
    notices += [f"advisory skipped: {w}" for w in found.warnings]
    used: set[str] = set()
    rows = []
    for finding in found.findings:
        if severities is not None and finding.severity not in severities:
            continue
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
    )


def finding_dict(finding: Finding, waiver: Waiver | None) -> dict[str, Any]:
    return {
        "id": finding.id,
        "aliases": list(finding.aliases),
        "package": finding.package,
        "arch": finding.arch,
        "source": finding.source,
        "installed": finding.installed,
        "fixed": finding.fixed,
        "severity": finding.severity,
        "score": finding.score,
        "status": finding.status,
        "summary": finding.summary,
        "ecosystem": finding.ecosystem,
        "matched": finding.matched,
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
    active = report.active_findings()
    return {
        "total": len(active),
        "waived": len(report.findings) - len(active),
        "fixed": sum(1 for f in active if f.fixed),
        "unfixed": sum(1 for f in active if not f.fixed),
        "by_severity": {s: sum(1 for f in active if f.severity == s) for s in reversed(SEVERITY_ORDER)},
    }


def render_json(report: VulnReport) -> str:
    document = {
        "schema": SCHEMA,
        "tool": {"name": "imagevet", "version": __version__},
        "target": target_dict(report.target),
        "os": os_dict(report.os),
        "ecosystem": list(report.ecosystems),
        "db": {"path": report.db.path, "updated": report.db.updated, "records": report.db.records},
        "coverage": coverage_dict(report.coverage),
        "findings": [finding_dict(f, w) for f, w in report.findings],
        "summary": summary(report),
        "notices": list(report.notices),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_sarif(report: VulnReport) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for finding, waiver in report.findings:
        if finding.id not in rules:
            rules[finding.id] = {
                "id": finding.id,
                "shortDescription": {"text": finding.summary or finding.id},
                "helpUri": f"https://osv.dev/vulnerability/{finding.id}",
                "properties": {
                    "security-severity": _SECURITY_SEVERITY[finding.severity],
                    "tags": ["security", "vulnerability", *finding.aliases[:5]],
                },
            }
        fix = f"fixed in {finding.fixed}" if finding.fixed else "no fix yet"
        entry: dict[str, Any] = {
            "ruleId": finding.id,
            "ruleIndex": list(rules).index(finding.id),
            "level": _SARIF_LEVEL[finding.severity],
            "message": {
                "text": f"{finding.package} {finding.installed} is affected by {finding.id} "
                f"({', '.join(finding.aliases[:3]) or 'no aliases'}); {fix}"
            },
            "properties": {
                "package": finding.package,
                "installed": finding.installed,
                "fixed": finding.fixed,
                "source": finding.source,
            },
        }
        if waiver is not None:
            entry["suppressions"] = [{"kind": "external", "justification": waiver.reason}]
        results.append(entry)
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "imagevet",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/imagevet/",
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_table(report: VulnReport, *, color: bool = False, width: int = 120) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    styles = {
        "critical": "bold white on red",
        "high": "bold red",
        "medium": "yellow",
        "low": "cyan",
        "unknown": "dim",
    }
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    counts = summary(report)
    console.print(
        Text(
            f"{counts['total']} vulnerabilities in {report.target.path} ({', '.join(report.ecosystems)})",
            style="bold",
        )
    )
    console.print(Text(describe(report.coverage), style="dim"))
    for warning in report.coverage.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))
    table = Table(expand=True)
    for column in ("severity", "id", "package", "installed", "fixed", "aliases"):
        table.add_column(column, overflow="fold")
    arches: dict[str, set[str]] = {}
    for finding, _ in report.findings:
        arches.setdefault(finding.package, set()).add(finding.arch)
    for finding, waiver in report.findings:
        name = finding.package + (f":{finding.arch}" if len(arches[finding.package]) > 1 else "")
        table.add_row(
            Text(finding.severity + (" (waived)" if waiver else ""), style=styles[finding.severity]),
            finding.id,
            name if finding.package == finding.source else f"{name} ({finding.source})",
            finding.installed,
            finding.fixed or Text("no fix yet", style="dim"),
            ", ".join(finding.aliases[:4]) + (" …" if len(finding.aliases) > 4 else ""),
        )
    console.print(table)
    by = counts["by_severity"]
    console.print(
        Text(
            "summary: "
            + "  ".join(f"{by[s]} {s}" for s in by)
            + f"  ({counts['fixed']} fixable, {counts['unfixed']} unfixed, {counts['waived']} waived)"
        )
    )
    return buffer.getvalue()
