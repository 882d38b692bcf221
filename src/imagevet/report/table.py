"""The audit for people: results grouped by status, coloured by severity, with evidence and the fix to
paste, laid out from the ``imagevet/audit/v1`` document.

Each result is stacked (status, severity and check id on one line; title and evidence wrapped below at
the full width), so no evidence is ever cut to fit a column, at 80 columns as at 200. Fixes paste back
as they are: a long command is broken only between shell words, with backslash continuations, and file
content is never wrapped.
"""

from __future__ import annotations

from typing import Any

from imagevet.model import Evidence, Severity
from imagevet.report.filter import hidden_line
from imagevet.report.layout import Page
from imagevet.report.source import cost_line
from imagevet.report.text import safe

STATUS_ORDER = ("fail", "error", "waived", "skip", "pass")
STATUS_STYLE = {
    "fail": "bold red",
    "error": "bold magenta",
    "waived": "yellow",
    "skip": "dim",
    "pass": "green",
}
_SEVERITY_WIDTH = max(len(s.value) for s in Severity)
_STATUS_WIDTH = max(len(s) for s in STATUS_ORDER)


def _rank(result: dict[str, Any]) -> int:
    return -Severity.of(result["severity"]).rank


def _result(page: Page, result: dict[str, Any]) -> None:
    severity = Severity.of(result["severity"])
    page.line(
        ("  ", ""),
        (result["status"].ljust(_STATUS_WIDTH + 2), STATUS_STYLE[result["status"]]),
        (result["severity"].ljust(_SEVERITY_WIDTH + 2), severity.style),
        (result["check"], "bold"),
    )
    page.text(safe(result["title"]), "dim", indent=4)
    for item in result["evidence"]:
        evidence = Evidence(**item)
        where = f"  {safe(evidence.where)}" if evidence.where else ""
        page.text(safe(evidence.detail) + where, indent=6)
    waiver = result["waiver"]
    if waiver is not None:
        expires = f" until {waiver['expires']}" if waiver["expires"] else ""
        page.text(f"waived{expires}: {safe(waiver['reason'])}", "yellow", indent=6)


def _fix(page: Page, result: dict[str, Any]) -> None:
    page.line((f"fix {result['check']}:", "bold red"))
    for step in result["remediation"]:
        if step["kind"] == "note":
            page.text(step["note"], indent=2)
            continue
        if step["kind"] == "file":
            page.command(f"cat > {step['path']} <<'EOF'", indent=2)
            page.verbatim(f"{step['content'].rstrip()}\nEOF", indent=2)
        else:
            page.command(step["run"], indent=2)
        if step["note"]:
            page.text(step["note"], "dim", indent=2, prefix="# ")


def gate_text(gate: dict[str, Any]) -> tuple[str, str]:
    """The verdict and its style, naming what tripped it (hidden results too: the gate sees them all)."""
    if gate["fail_on"] is None:
        return "gate: off (--fail-on never)", "dim"
    if gate["passed"]:
        return f"gate: passed (--fail-on {gate['fail_on']})", "green"
    parts = [f"failed: {', '.join(gate['failed'])}"] if gate["failed"] else []
    if gate.get("undecided"):
        parts.append(
            f"could not be decided: {', '.join(gate['undecided'])} (see the evidence; or --allow-errors)"
        )
    return f"gate: FAILED (--fail-on {gate['fail_on']}): " + "; ".join(parts), "bold red"


def render(document: dict[str, Any], *, color: bool = False, width: int = 80) -> str:
    page = Page(width)
    target, os = document["target"], document["os"]
    os_label = (os["pretty_name"] or f"{os['id']} {os['version_id']}") if os else "unknown OS"
    page.text(
        f"imagevet audit of {safe(target['path'])} ({target['kind']}): {safe(os_label)}, "
        f"as of {document['as_of']}",
        "bold",
    )
    source = target.get("source")
    if source is not None:
        numbers = ("bytes_fetched", "image_bytes", "requests", "bytes_from_cache", "location")
        page.text(safe(cost_line(*(source[key] for key in numbers))))
    results = document["results"]
    for status in STATUS_ORDER:
        group = sorted((r for r in results if r["status"] == status), key=_rank)
        if group:
            page.line(("", ""))
            page.line((f"{status.upper()} ({len(group)})", STATUS_STYLE[status]))
            for result in group:
                _result(page, result)
    if "filter" in document:
        page.line(("", ""))
        page.text(hidden_line(document["filter"]), "dim")
    failed = sorted((r for r in results if r["status"] == "fail" and r["remediation"]), key=_rank)
    for result in failed:
        page.line(("", ""))
        _fix(page, result)
    page.line(("", ""))
    summary = document["summary"]
    page.line(("summary: ", ""), *((f"{summary[s]} {s}  ", STATUS_STYLE[s]) for s in STATUS_ORDER))
    page.text(*gate_text(document["gate"]))
    return page.render(color)
