"""Human output: results grouped by status, coloured by severity, with evidence and the fix to paste."""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from imagevet.model import CheckResult, Report, Severity, Status
from imagevet.report.text import safe

STATUS_ORDER = (Status.FAIL, Status.ERROR, Status.WAIVED, Status.SKIP, Status.PASS)
STATUS_STYLE = {
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.WAIVED: "yellow",
    Status.SKIP: "dim",
    Status.PASS: "green",
}
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _evidence(result: CheckResult) -> Text:
    text = Text()
    for i, item in enumerate(result.evidence):
        if i:
            text.append("\n")
        text.append(safe(item.detail))
        if item.path:
            where = item.path if item.line is None else f"{item.path}:{item.line}"
            text.append(f"  {safe(where)}", style="dim")
    if result.waiver is not None:
        expires = f" until {result.waiver.expires}" if result.waiver.expires else ""
        text.append(f"\nwaived{expires}: {safe(result.waiver.reason)}", style="yellow")
    return text


def _group_table(status: Status, results: list[CheckResult]) -> Table:
    table = Table(
        title=Text(f"{status.value.upper()} ({len(results)})", style=STATUS_STYLE[status]),
        title_justify="left",
        expand=True,
        show_lines=status is not Status.PASS,
    )
    table.add_column("severity", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("evidence", ratio=1)
    for result in sorted(results, key=lambda r: -r.severity.rank):
        table.add_row(
            Text(result.severity.value, style=SEVERITY_STYLE[result.severity]),
            Text(result.check, style="bold") + Text(f"\n{result.title}", style="dim"),
            _evidence(result),
        )
    return table


def _remediation(result: CheckResult) -> Panel:
    parts: list[Text | Syntax] = []
    for step in result.remediation:
        if step.kind == "note":
            parts.append(Text(step.text))
            continue
        script = f"cat > {step.path} <<'EOF'\n{step.text.rstrip()}\nEOF" if step.kind == "file" else step.text
        parts.append(Syntax(script, "bash", theme="ansi_dark", word_wrap=True, background_color="default"))
        if step.description:
            parts.append(Text(f"# {step.description}", style="dim"))
    return Panel(Group(*parts), title=f"fix {result.check}", title_align="left", border_style="red")


def render_table(report: Report, *, color: bool = False, width: int = 120) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    os_label = (
        report.os.pretty_name or f"{report.os.id} {report.os.version_id}" if report.os else "unknown OS"
    )
    console.print(
        Text(
            f"imagevet audit of {safe(report.target.path)} ({report.target.kind}): {safe(os_label)}, "
            f"as of {report.as_of.isoformat()}",
            style="bold",
        )
    )
    if report.target.source is not None:
        from imagevet.report.source import source_line

        console.print(Text(safe(source_line(report.target.source))))
    for status in STATUS_ORDER:
        group = [r for r in report.results if r.status is status]
        if group:
            console.print(_group_table(status, group))
    failed = [r for r in report.results if r.status is Status.FAIL and r.remediation]
    for result in sorted(failed, key=lambda r: -r.severity.rank):
        console.print(_remediation(result))
    summary = report.summary()
    line = Text("summary: ")
    for status in STATUS_ORDER:
        line.append(f"{summary[status.value]} {status.value}  ", style=STATUS_STYLE[status])
    console.print(line)
    console.print(_gate_line(report))
    return buffer.getvalue()


def _gate_line(report: Report) -> Text:
    """The verdict, naming what tripped it: failed checks, and checks that could not be decided."""
    gate = report.gate
    if gate.fail_on is None:
        return Text("gate: off (--fail-on never)", style="dim")
    tripping = report.gate_failures()
    if not tripping:
        return Text(f"gate: passed (--fail-on {gate.fail_on.value})", style="green")
    failed = [r.check for r in tripping if r.status is Status.FAIL]
    undecided = [r.check for r in tripping if r.status is Status.ERROR]
    parts = [f"failed: {', '.join(failed)}"] if failed else []
    if undecided:
        parts.append(f"could not be decided: {', '.join(undecided)} (see the evidence; or --allow-errors)")
    return Text(f"gate: FAILED (--fail-on {gate.fail_on.value}): " + "; ".join(parts), style="bold red")
