"""The formats the audit and vuln reports render alike from their documents: JSON, SARIF (one builder,
report/sarif.py) and the standalone HTML page (the service dashboard's template)."""

from __future__ import annotations

from typing import Any

from imagevet.report.filter import hidden_line
from imagevet.report.json_report import to_json


def render_shared(data: dict[str, Any], fmt: str, kind: str) -> str | None:
    """``data`` (an ``audit`` or ``vuln`` document, as ``kind`` says) as json, sarif or html; None for a
    format of the report's own (table, junit)."""
    if fmt == "json":
        return to_json(data)
    if fmt == "sarif":
        from imagevet.report.sarif import audit_log, vuln_log

        return to_json(audit_log(data) if kind == "audit" else vuln_log(data))
    if fmt == "html":
        return html_page(data, kind)
    return None


def html_page(document: dict[str, Any], kind: str) -> str:
    """``document`` (an audit or vuln document) as the page of ``kind``, saying when a ``--severity``
    filter hid results (the template shows the document's results only, so the page gets a note)."""
    from imagevet.web.render import audit_html, vuln_html

    page = audit_html(document) if kind == "audit" else vuln_html(document)
    if "filter" not in document:
        return page
    import html

    note = f'<p class="severity-filter"><em>{html.escape(hidden_line(document["filter"]))}</em></p>'
    head, body, rest = page.partition("<body")
    if not body:
        return note + page
    tag, close, content = rest.partition(">")
    return f"{head}{body}{tag}{close}{note}{content}"
