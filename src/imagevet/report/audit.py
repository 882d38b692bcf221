"""The audit report: ``document`` (the ``imagevet/audit/v1`` data, built once), the formats it renders to,
and ``render``. Every format is rendered from the document, so table, SARIF, JUnit and HTML say what the
JSON says; heavy renderers are imported only when chosen."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from imagevet.model import Report
from imagevet.report.filter import SeverityFilter
from imagevet.report.formats import render_shared
from imagevet.report.json_report import report_dict


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    HTML = "html"


def document(report: Report, shown: SeverityFilter | None = None) -> dict[str, Any]:
    """The audit as plain data. With ``shown`` (``--severity``) only those results are listed and a
    ``filter`` field says how many were not; ``summary`` and ``gate`` are always of every result."""
    data = report_dict(report)
    if shown is not None:
        kept = [r for r in data["results"] if shown.shows(r["severity"])]
        failing = [r.check for r in report.gate_failures() if not shown.shows(r.severity)]
        data["filter"] = shown.note(len(data["results"]) - len(kept), failing)
        data["results"] = kept
    return data


def render(data: dict[str, Any], fmt: Format, *, color: bool = False, width: int = 80) -> str:
    """``data`` (an ``audit`` document) as ``fmt``; ``color`` and ``width`` are for the table."""
    shared = render_shared(data, fmt.value, "audit")
    if shared is not None:
        return shared
    if fmt is Format.JUNIT:
        from imagevet.report import junit

        return junit.render(data)
    from imagevet.report import table

    return table.render(data, color=color, width=width)
