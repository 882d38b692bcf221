"""Renderers for `imagevet compliance`: JSON (imagevet/compliance/v1), a table, and a static HTML page."""

from __future__ import annotations

import html
import io
import json
from typing import Any

from imagevet.compliance import ControlResult, Framework, cis_benchmark, recommendation_ids
from imagevet.model import Report
from imagevet.report.json_report import os_dict, target_dict
from imagevet.report.text import safe

SCHEMA = "imagevet/compliance/v1"
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
                "checks": [{"check": r.check, "status": r.status.value} for r in j.results],
                "manual": j.control.manual,
                "recommendations": recommendation_ids(j.control, benchmark),
            }
            for j in judged
        ],
        "coverage": coverage,
    }


def render_json(
    frame: Framework, report: Report, judged: list[ControlResult], coverage: dict[str, Any]
) -> str:
    return json.dumps(document(frame, report, judged, coverage), indent=2, ensure_ascii=False) + "\n"


def render_table(
    frame: Framework,
    report: Report,
    judged: list[ControlResult],
    coverage: dict[str, Any],
    *,
    color: bool = False,
    width: int = 120,
) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    benchmark = cis_benchmark(frame, report)
    table = Table(title=safe(f"{frame.title} — {report.target.path}"), title_justify="left", expand=True)
    for column in ("control", "status", "title", "checks"):
        table.add_column(column, overflow="fold")
    if benchmark:
        table.add_column("CIS", overflow="fold")
    for j in judged:
        checks = ", ".join(f"{r.check}:{r.status.value}" for r in j.results) or (j.control.manual or "")
        row: list[str | Text] = [j.control.id, Text(j.status, style=STYLE[j.status]), j.control.title, checks]
        if benchmark:
            row.append(", ".join(recommendation_ids(j.control, benchmark)))
        table.add_row(*row)
    console.print(table)
    if benchmark:
        console.print(Text(f"CIS numbers: {benchmark.title}"))
    console.print(
        Text(
            f"{coverage['met']} met, {coverage['not-met']} not met, {coverage['undecided']} undecided, "
            f"{coverage['not-applicable']} not applicable, {coverage['manual']} manual; "
            f"{coverage['automated']} of {coverage['controls']} controls judged automatically"
        )
    )
    return buffer.getvalue()


def render_html(
    frame: Framework, report: Report, judged: list[ControlResult], coverage: dict[str, Any]
) -> str:
    """A self-contained page (no scripts, no external resources) an auditor can open or archive."""
    colours = {
        "met": "#1a7f37",
        "not-met": "#cf222e",
        "manual": "#0969da",
        "undecided": "#8250df",
        "not-applicable": "#6e7781",
    }
    benchmark = cis_benchmark(frame, report)
    rows = []
    for j in judged:
        checks = "<br>".join(f"{html.escape(r.check)}: {html.escape(r.status.value)}" for r in j.results)
        note = html.escape(j.control.manual or "")
        numbers = ", ".join(recommendation_ids(j.control, benchmark))
        control_id = html.escape(j.control.id) + (
            f"<br><small>CIS {html.escape(numbers)}</small>" if numbers else ""
        )
        rows.append(
            f"<tr><td>{control_id}</td>"
            f'<td style="color:{colours[j.status]};font-weight:bold">{html.escape(j.status)}</td>'
            f"<td>{html.escape(j.control.title)}</td><td>{checks or note}</td></tr>"
        )
    os_label = html.escape(report.os.pretty_name if report.os else "unknown OS")
    cis_note = f"CIS numbers from the {html.escape(benchmark.title)}. " if benchmark else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(frame.title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #d0d7de;padding:.4em;text-align:left;vertical-align:top}</style></head><body>"
        f"<h1>{html.escape(frame.title)}</h1>"
        f"<p>Target <code>{html.escape(report.target.path)}</code> ({os_label}), "
        f"as of {report.as_of.isoformat()}. {cis_note}"
        f"{coverage['met']} met, {coverage['not-met']} not met, {coverage['manual']} manual; "
        f"{coverage['automated']} of {coverage['controls']} controls judged automatically. "
        "Generated by imagevet.</p>"
        "<table><thead><tr><th>Control</th><th>Status</th><th>Requirement</th><th>Checks</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>\n"
    )
