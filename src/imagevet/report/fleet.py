"""Fleet summaries: one row per host, and the ``imagevet/fleet/v1`` JSON document."""

from __future__ import annotations

import io
from typing import Any

from imagevet.fleet import HostResult

SCHEMA = "imagevet/fleet/v1"


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


def fleet_document(results: list[HostResult]) -> dict[str, Any]:
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


def render_fleet_table(results: list[HostResult], *, color: bool = False, width: int = 120) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    table = Table(title=f"{len(results)} hosts", title_justify="left", expand=True)
    for column in ("host", "status", "os", "pass", "fail", "skip", "error", "gate"):
        table.add_column(column, overflow="fold")
    for result in results:
        row = host_dict(result)
        if row["status"] == "error":
            table.add_row(
                row["host"],
                Text("unreachable", style="bold magenta"),
                Text(row["error"] or "", style="dim"),
                "",
                "",
                "",
                "",
                "",
            )
            continue
        summary = row["summary"]
        gate = (
            Text("FAIL " + ",".join(row["gate_failures"]), style="bold red")
            if row["gate_failures"]
            else Text("ok", style="green")
        )
        table.add_row(
            row["host"],
            "audited",
            row["os"] or "?",
            str(summary["pass"]),
            str(summary["fail"]),
            str(summary["skip"]),
            str(summary["error"]),
            gate,
        )
    console.print(table)
    document = fleet_document(results)["summary"]
    console.print(
        Text(
            f"{document['audited']} audited, {document['errors']} unreachable, "
            f"{document['failing_gate']} failing the gate"
        )
    )
    return buffer.getvalue()
