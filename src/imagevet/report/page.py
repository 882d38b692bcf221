"""The standalone HTML page of a report document (the service dashboard's template), saying when a
``--severity`` filter hid results: the template shows the document's results only, so the page gets a
note of its own."""

from __future__ import annotations

import html
from typing import Any

from imagevet.report.filter import hidden_line


def html_page(document: dict[str, Any], kind: str) -> str:
    """``document`` (an audit or vuln document) as the page of ``kind``."""
    from imagevet.web.render import audit_html, vuln_html

    page = audit_html(document) if kind == "audit" else vuln_html(document)
    if "filter" not in document:
        return page
    note = f'<p class="severity-filter"><em>{html.escape(hidden_line(document["filter"]))}</em></p>'
    head, body, rest = page.partition("<body")
    if not body:
        return note + page
    tag, close, content = rest.partition(">")
    return f"{head}{body}{tag}{close}{note}{content}"
