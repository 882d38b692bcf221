"""Renderers: each is a pure function of the report that returns text."""

from __future__ import annotations

from enum import StrEnum

from imagevet.model import Report


class AuditFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    HTML = "html"


def render_audit(report: Report, fmt: AuditFormat, *, color: bool = False, width: int = 120) -> str:
    """Render ``report``; heavy renderers are imported only when chosen."""
    if fmt is AuditFormat.JSON:
        from imagevet.report.json_report import render_json

        return render_json(report)
    if fmt is AuditFormat.SARIF:
        from imagevet.report.sarif import render_sarif

        return render_sarif(report)
    if fmt is AuditFormat.HTML:
        from imagevet.report.json_report import report_dict
        from imagevet.web.render import audit_html

        return audit_html(report_dict(report))
    if fmt is AuditFormat.JUNIT:
        from imagevet.report.junit import render_junit

        return render_junit(report)
    from imagevet.report.table import render_table

    return render_table(report, color=color, width=width)
