"""The fleet report of `imagevet audit --inventory`: ``document`` (``imagevet/fleet/v1`` as data, one row
per host), ``Format`` (table, json) and ``render``; the table is made from the document."""

from __future__ import annotations

import io
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from imagevet.report.json_report import to_json

if TYPE_CHECKING:
    from imagevet.fleet import HostResult

SCHEMA = "imagevet/fleet/v1"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


def host_dict(result: HostResult) -> dict[str, Any]:
    if result.report is None:
        return {
            "host": result.host.name,
            "target": result.host.spec,
            "status": "error",
            "error": result.error,
            "summary": None,
            "gate_failures": [],
        }
    return {
        "host": result.host.name,
        "target": result.host.spec,
        "status": "audited",
        "error": None,
        "os": result.report.os.pretty_name if result.report.os else None,
        "summary": result.report.summary(),
        "gate_failures": [r.check for r in result.report.gate_failures()],
    }


def document(results: list[HostResult]) -> dict[str, Any]:
    audited = [r for r in results if r.report is not None]
    return {
        "schema": SCHEMA,
        "hosts": [host_dict(r) for r in results],
        "summary": {
            "hosts": len(results),
            "audited": len(audited),
            "errors": len(results) - len(audited),
            "failing_gate": sum(1 for r in audited if r.report and r.report.gate_failures()),
        },
    }


fleet_document = document  # the name tests/test_gate.py knows it by


def render(data: dict[str, Any], fmt: Format, *, color: bool = False, width: int = 120) -> str:
    """``data`` (a fleet document) as ``fmt``; ``color`` and ``width`` are for the table."""
    if fmt is Format.JSON:
        return to_json(data)
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    table = Table(title=f"{len(data['hosts'])} hosts", title_justify="left", expand=True)
    for column in ("host", "status", "os", "pass", "fail", "skip", "error", "gate"):
        table.add_column(column, overflow="fold")
    for row in data["hosts"]:
        if row["status"] == "error":
            unreachable = Text("unreachable", style="bold magenta")
            table.add_row(row["host"], unreachable, Text(row["error"] or "", style="dim"), *[""] * 5)
            continue
        summary = row["summary"]
        gate = (
            Text("FAIL " + ",".join(row["gate_failures"]), style="bold red")
            if row["gate_failures"]
            else Text("ok", style="green")
        )
        counts = (str(summary[key]) for key in ("pass", "fail", "skip", "error"))
        table.add_row(row["host"], "audited", row["os"] or "?", *counts, gate)
    console.print(table)
    total = data["summary"]
    failing = total["failing_gate"]
    console.print(
        Text(f"{total['audited']} audited, {total['errors']} unreachable, {failing} failing the gate")
    )
    return buffer.getvalue()
