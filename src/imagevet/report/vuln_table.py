"""The vuln report for people, laid out from the ``imagevet/vuln/v1`` document: one aligned row per
finding when the columns fit the width side by side, else each finding stacked (severity and id on one
line, package, versions and aliases wrapped below), so an id or a version is never cut. Text from the
image or the advisory database is shown through ``safe``."""

from __future__ import annotations

from typing import Any

from imagevet.model import Severity
from imagevet.report.filter import hidden_line
from imagevet.report.layout import Cell, Page
from imagevet.report.text import safe

COLUMNS = ("severity", "id", "package", "installed", "fixed", "aliases")


def _cells(finding: dict[str, Any], several_arches: bool) -> list[Cell]:
    name = finding["package"] + (f":{finding['arch']}" if several_arches else "")
    package = name if finding["package"] == finding["source"] else f"{name} ({finding['source']})"
    aliases = finding["aliases"]
    return [
        (
            finding["severity"] + (" (waived)" if finding["waiver"] else ""),
            Severity.of(finding["severity"]).style,
        ),
        (safe(finding["id"]), "bold"),
        (safe(package), ""),
        (safe(finding["installed"]), ""),
        (safe(finding["fixed"]), "") if finding["fixed"] else ("no fix yet", "dim"),
        (safe(", ".join(aliases[:4])) + (" …" if len(aliases) > 4 else ""), ""),
    ]


def _coverage_line(coverage: dict[str, Any]) -> str:
    """What the database held for the image's ecosystem (the document's ``coverage``)."""
    from imagevet.vuln.coverage import coverage_line

    if coverage["age_days"] is None:
        return f"needs advisories for {coverage['ecosystem']}"
    args = (coverage["records"], coverage["complete"], coverage["source"], coverage["age_days"])
    return coverage_line(coverage["ecosystem"], *args)


def _stacked(page: Page, cells: list[Cell]) -> None:
    severity, advisory, package, installed, fixed, aliases = (text for text, _ in cells)
    page.line(("  ", ""), (severity + "  ", cells[0][1]), (advisory, "bold"))
    fix = "no fix yet" if fixed == "no fix yet" else f"fixed in {fixed}"
    page.text(f"{package} {installed}, {fix}", indent=6)
    if aliases:
        page.text(f"aliases: {aliases}", "dim", indent=6)


def render(document: dict[str, Any], *, color: bool = False, width: int = 80) -> str:
    page = Page(width)
    counts = document["summary"]
    page.text(
        f"{counts['total']} vulnerabilities in {safe(document['target']['path'])} "
        f"({', '.join(document['ecosystem'])})",
        "bold",
    )
    page.text(safe(_coverage_line(document["coverage"])), "dim")
    for warning in document["coverage"]["warnings"]:
        page.text(safe(f"warning: {warning}"), "yellow")
    findings = document["findings"]
    arches: dict[str, set[str]] = {}
    for finding in findings:
        arches.setdefault(finding["package"], set()).add(finding["arch"])
    rows = [_cells(f, len(arches[f["package"]]) > 1) for f in findings]
    if rows:
        page.line(("", ""))
        if not page.grid([[(c, "bold") for c in COLUMNS], *rows]):
            for cells in rows:
                _stacked(page, cells)
    page.line(("", ""))
    if "filter" in document:
        page.text(hidden_line(document["filter"]), "dim")
    by = counts["by_severity"]
    page.text(
        "summary: "
        + "  ".join(f"{by[s]} {s}" for s in by)
        + f"  ({counts['fixed']} fixable, {counts['unfixed']} unfixed, {counts['waived']} waived)"
    )
    return page.render(color)
