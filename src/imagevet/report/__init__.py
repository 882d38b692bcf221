"""Renderers: one module per report, each with ``document(...)`` (the report as plain data, built once), a
``Format`` enum of the formats it renders and ``render(document, fmt)`` returning text. They never write
files, print or read the environment: the CLI does."""

from __future__ import annotations

from imagevet.model import Report
from imagevet.report.audit import Format as AuditFormat
from imagevet.report.audit import document, render

__all__ = ["AuditFormat", "render_audit"]


def render_audit(report: Report, fmt: AuditFormat, *, color: bool = False, width: int = 80) -> str:
    """``report`` as ``fmt``: the audit document, rendered (for callers that hold the report)."""
    return render(document(report), fmt, color=color, width=width)
