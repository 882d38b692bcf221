"""The report of `imagevet compliance`: ``document`` (``imagevet/compliance/v1`` as data), ``Format``
(table, json, html, csv) and ``render``; the table, the static page and the CSV are made from the
document."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports Format at start-up: the frameworks' data stays unloaded until used
    from imagevet.compliance import ControlResult, Framework
    from imagevet.model import Report
from imagevet.report.json_report import evidence_dict, os_dict, target_dict, to_json
from imagevet.report.layout import Cell, Page
from imagevet.report.text import safe

SCHEMA = "imagevet/compliance/v1"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    HTML = "html"
    CSV = "csv"


STYLE = {
    "met": "green",
    "not-met": "bold red",
    "manual": "cyan",
    "undecided": "magenta",
    "not-applicable": "dim",
}


def document(
    frame: Framework, report: Report, judged: list[ControlResult], coverage: dict[str, Any]
) -> dict[str, Any]:
    from imagevet.compliance import cis_benchmark, recommendation_ids

    benchmark = cis_benchmark(frame, report)
    return {
        "schema": SCHEMA,
        "framework": {"id": frame.key, "title": frame.title},
        "benchmark": (
            {"id": benchmark.key, "title": benchmark.title, "source": benchmark.source} if benchmark else None
        ),
        "as_of": report.as_of.isoformat(),
        "target": target_dict(report.target),
        "os": os_dict(report.os),
        "controls": [
            {
                "id": j.control.id,
                "title": j.control.title,
                "status": j.status,
                "checks": [
                    {
                        "check": r.check,
                        "status": r.status.value,
                        "evidence": [evidence_dict(e) for e in r.evidence],
                    }
                    for r in j.results
                ],
                "manual": j.left_to_people,
                "recommendations": recommendation_ids(j.control, benchmark),
            }
            for j in judged
        ],
        "coverage": coverage,
    }


def render(data: dict[str, Any], fmt: Format, *, color: bool = False, width: int = 80) -> str:
    """``data`` (a compliance document) as ``fmt``; ``color`` and ``width`` are for the table."""
    if fmt is Format.JSON:
        return to_json(data)
    if fmt is Format.HTML:
        return _html(data)
    if fmt is Format.CSV:
        return _csv(data)
    return _table(data, color=color, width=width)


CSV_COLUMNS = (
    "framework",
    "control",
    "title",
    "status",
    "checks",
    "evidence",
    "manual",
    "cis",
    "target",
    "as_of",
)
# A cell a spreadsheet would take for a formula (OWASP's CSV injection list): a target path such as
# "=HYPERLINK(...)" or evidence quoting a hostile file must stay text when an auditor opens the file.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _evidence_text(item: dict[str, Any]) -> str:
    """As model.Evidence says itself: the detail, then ``(path:line)`` where it came from a file."""
    if item["path"] is None:
        return str(item["detail"])
    where = item["path"] if item["line"] is None else f"{item['path']}:{item['line']}"
    return f"{item['detail']} ({where})"


def _csv(data: dict[str, Any]) -> str:
    """One row per control (RFC 4180: comma-separated, quoted where needed, CRLF line ends, a header row)
    for a spreadsheet or a GRC tool: its checks as ``check:status`` and their evidence joined by ``; ``.
    A cell that starts as a formula would is prefixed with ``'`` so that no spreadsheet runs it."""
    import csv  # here: the CLI imports this module for Format at every start
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for control in data["controls"]:
        evidence = [
            f"{check['check']}: {_evidence_text(item)}"
            for check in control["checks"]
            for item in check["evidence"]
        ]
        row = (
            data["framework"]["id"],
            control["id"],
            control["title"],
            control["status"],
            "; ".join(f"{c['check']}:{c['status']}" for c in control["checks"]),
            "; ".join(evidence),
            control["manual"] or "",
            " ".join(control["recommendations"]),
            data["target"]["path"],
            data["as_of"],
        )
        writer.writerow([_cell(str(value)) for value in row])
    return out.getvalue()


def _other_numbers(control: dict[str, Any]) -> list[str]:
    """The CIS numbers a control stands for, unless it is that one recommendation (its id says it)."""
    numbers: list[str] = control["recommendations"]
    return [] if numbers == [control["id"]] else numbers


def _table(data: dict[str, Any], *, color: bool, width: int) -> str:
    """One aligned row per control when the columns fit the width, else each control stacked (id and
    status on one line; requirement, checks and CIS numbers wrapped below), never cutting a word."""
    page = Page(width)
    benchmark = data["benchmark"]
    page.text(safe(f"{data['framework']['title']} — {data['target']['path']}"), "bold")
    rows: list[list[Cell]] = []
    stacked: list[tuple[str, str, str]] = []  # per control: checks, what is left to people, CIS numbers
    for control in data["controls"]:
        checks = ", ".join(f"{c['check']}:{c['status']}" for c in control["checks"])
        left = control["manual"] or ""
        cis = ", ".join(_other_numbers(control)) if benchmark else ""
        status = control["status"]
        rows.append(
            [
                (control["id"], "bold"),
                (status, STYLE[status]),
                (control["title"], ""),
                ("; ".join(text for text in (checks, left) if text), ""),
                (cis, ""),
            ]
        )
        stacked.append((checks, left, cis))
    header: list[Cell] = [
        (c, "bold") for c in ("control", "status", "title", "checks", "CIS" if benchmark else "")
    ]
    if rows and not page.grid([header, *rows], indent=2):
        for cells, (judged_by, left, numbers) in zip(rows, stacked, strict=True):
            page.line(("  ", ""), cells[0], ("  ", ""), cells[1])
            page.text(cells[2][0], indent=4)
            if judged_by:
                page.text(f"checks: {judged_by}", "dim", indent=6)
            if left:
                page.text(f"left to people: {left}", "dim", indent=6)
            if numbers:
                page.text(f"CIS: {numbers}", "dim", indent=6)
    if benchmark:
        page.text(f"CIS numbers: {benchmark['title']}")
    coverage = data["coverage"]
    page.text(
        f"{coverage['met']} met, {coverage['not-met']} not met, {coverage['undecided']} undecided, "
        f"{coverage['not-applicable']} not applicable, {coverage['manual']} manual; "
        f"{coverage['automated']} of {coverage['controls']} controls judged automatically"
    )
    return page.render(color)


_COLOURS = {
    "met": "#1a7f37",
    "not-met": "#cf222e",
    "manual": "#0969da",
    "undecided": "#8250df",
    "not-applicable": "#6e7781",
}


def _html(data: dict[str, Any]) -> str:
    """A self-contained page (no scripts, no external resources) an auditor can open or archive."""
    import html  # here: the CLI imports this module for Format at every start

    benchmark = data["benchmark"]
    rows = []
    for control in data["controls"]:
        checks = "<br>".join(
            f"{html.escape(c['check'])}: {html.escape(c['status'])}" for c in control["checks"]
        )
        note = html.escape(control["manual"] or "")
        numbers = ", ".join(_other_numbers(control))
        control_id = html.escape(control["id"]) + (
            f"<br><small>CIS {html.escape(numbers)}</small>" if numbers else ""
        )
        status = control["status"]
        judged = "<br>".join(text for text in (checks, note) if text)
        rows.append(
            f"<tr><td>{control_id}</td>"
            f'<td style="color:{_COLOURS[status]};font-weight:bold">{html.escape(status)}</td>'
            f"<td>{html.escape(control['title'])}</td><td>{judged}</td></tr>"
        )
    os_label = html.escape(data["os"]["pretty_name"] if data["os"] else "unknown OS")
    cis_note = f"CIS numbers from the {html.escape(benchmark['title'])}. " if benchmark else ""
    title = html.escape(data["framework"]["title"])
    coverage = data["coverage"]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #d0d7de;padding:.4em;text-align:left;vertical-align:top}</style></head><body>"
        f"<h1>{title}</h1>"
        f"<p>Target <code>{html.escape(data['target']['path'])}</code> ({os_label}), "
        f"as of {data['as_of']}. {cis_note}"
        f"{coverage['met']} met, {coverage['not-met']} not met, {coverage['manual']} manual; "
        f"{coverage['automated']} of {coverage['controls']} controls judged automatically. "
        "Generated by imagevet.</p>"
        "<table><thead><tr><th>Control</th><th>Status</th><th>Requirement</th><th>Checks</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>\n"
    )
