"""Renderers for `imagevet recommend`: JSON (imagevet/recommend/v1), Markdown, and a table."""

from __future__ import annotations

import io
import json
from typing import Any

from imagevet.catalog.image_overrides import latest
from imagevet.catalog.model import Offering
from imagevet.recommend.engine import Candidate, Recommendation
from imagevet.recommend.lookup import lookup_command, lookup_record
from imagevet.report.lifecycle import tier_record

SCHEMA = "imagevet/recommend/v1"


def _date(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def _support(candidate: Candidate) -> dict[str, Any] | None:
    found = candidate.coverage
    if found is None:
        return None
    return {
        "until": _date(found.until),
        "tier": None if found.tier is None else found.tier.tier,
        "tier_name": None if found.tier is None else found.tier.name,
        "cost": "free" if found.tier is None else found.tier.cost,
        "paid": found.paid,
        "rolling": found.until is None,
    }


def _tiers(candidate: Candidate) -> list[dict[str, Any]]:
    return [tier_record(t, how=True) for t in candidate.release.tiers]


def _lookup(offering: Offering) -> dict[str, Any]:
    """The lookup record, with the latest image id the cloud gave (image-overrides.yaml) as ``latest``."""
    record, found = latest(lookup_record(offering))
    return record if found is None else {**record, "latest": found}


def candidate_dict(candidate: Candidate, cloud: str | None) -> dict[str, Any]:
    release = candidate.release
    offering = candidate.offering
    return {
        "rank": candidate.rank,
        "release": release.release,
        "distro": release.distro,
        "version": release.version,
        "name": release.name,
        "cloud": cloud,
        "offering": None if offering is None else offering.name,
        "image": None if offering is None else offering.image,
        "variant": None if offering is None else offering.variant,
        "paid": None if offering is None else offering.paid,
        "score": candidate.score,
        "score_parts": {k: round(v, 1) for k, v in candidate.parts.items()},
        "covers_horizon": candidate.covers_horizon,
        "eol": _date(release.eol),
        "extended_eol": _date(release.extended_eol),
        "support": _support(candidate),
        "tiers": _tiers(candidate),
        "reasons": candidate.reasons,
        "warnings": candidate.warnings,
        "lookup": {cloud_key: _lookup(found) for cloud_key, found in candidate.offerings.items()},
        "sources": list(release.citations()) + ([] if offering is None else list(offering.citations())),
    }


def _title(candidate: Candidate) -> str:
    """The release, and on one cloud the image's name and whether it costs extra."""
    if candidate.offering is None:
        return candidate.release.name
    paid = f" [paid: {candidate.offering.paid}]" if candidate.offering.paid else ""
    return f"{candidate.offering.name}{paid}"


def _support_text(candidate: Candidate) -> str:
    found = candidate.coverage
    if found is not None and found.until is None:
        return "rolling (kept current)"
    if found is not None and found.until is not None:
        paid = f" ({found.tier.name}, paid)" if found.paid and found.tier is not None else ""
        return f"{found.until.isoformat()}{paid}"
    return candidate.release.eol.isoformat() if candidate.release.eol else "unknown"


def lookup_lines(result: Recommendation, limit: int) -> list[str]:
    """One pasteable command per shown candidate and cloud: never wrapped, never cut."""
    lines = []
    for candidate in result.candidates[:limit]:
        for cloud_key, offering in candidate.offerings.items():
            lines.append(f"{candidate.rank}. {cloud_key} {offering.name}: {lookup_command(offering)}")
    return lines


def recommendation_dict(result: Recommendation) -> dict[str, Any]:
    query = result.query
    return {
        "schema": SCHEMA,
        "as_of": query.as_of.isoformat(),
        "query": {
            "scenario": query.scenario,
            "cloud": query.cloud,
            "lifecycle_years": query.lifecycle_years,
            "compliance": list(query.compliance),
            "arch": query.arch,
            "gpu": query.gpu,
        },
        "guide": result.scenario.guide,
        "candidates": [candidate_dict(c, query.cloud) for c in result.candidates],
        "rejected": [{"release": r.release.release, "reasons": list(r.reasons)} for r in result.rejected],
    }


def render_json(result: Recommendation) -> str:
    return json.dumps(recommendation_dict(result), indent=2, ensure_ascii=False) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(result: Recommendation, limit: int = 5) -> str:
    """A comparison table a team can paste into a design document."""
    query = result.query
    where = f"on {query.cloud}" if query.cloud else "cloud-neutral"
    lines = [
        f"### Image recommendation: {result.scenario.title} ({where})",
        "",
        f"As of {query.as_of.isoformat()}; support horizon {query.lifecycle_years:g} years"
        + (f"; compliance: {', '.join(query.compliance)}" if query.compliance else "")
        + ". Generated by imagevet.",
        "",
        "| rank | release | score | security support until | why | watch out | how to find it |",
        "|---|---|---|---|---|---|---|",
    ]
    for candidate in result.candidates[:limit]:
        release = candidate.release
        eol = _support_text(candidate)
        if release.extended_eol and not (candidate.coverage and candidate.coverage.paid):
            eol += f" (paid {release.extended_kind} until {release.extended_eol.isoformat()})"
        if candidate.offering is not None:
            find = f"`{lookup_command(candidate.offering)}`"
        else:
            find = "official images on " + ", ".join(candidate.offerings) if candidate.offerings else "-"
        why = _cell("; ".join(candidate.reasons[:4]))
        watch = _cell("; ".join(candidate.warnings[:3]) or "-")
        lines.append(
            f"| {candidate.rank} | {_cell(_title(candidate))} | {candidate.score:.1f} | {eol} | {why} | "
            f"{watch} | {_cell(find)} |"
        )
    lines += ["", f"Guide baseline: {result.scenario.guide}.", ""]
    if result.rejected:
        lines.append(
            "Not considered: "
            + "; ".join(f"{r.release.name} ({r.reasons[0]})" for r in result.rejected[:8])
            + ("; …" if len(result.rejected) > 8 else "")
            + "."
        )
    return "\n".join(lines) + "\n"


def render_table(result: Recommendation, *, color: bool = False, width: int = 120, limit: int = 5) -> str:
    """A ranked table; reasons are marked ``+`` and warnings ``!`` (not only by colour), and the lookup
    commands follow the table, one per line and never wrapped, so they paste whole from a terminal or a
    pipe."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    query = result.query
    where = f"on {query.cloud}" if query.cloud else "cloud-neutral"
    paid = "; paid support counted" if query.allow_paid_support else ""
    console.print(
        Text(
            f"{result.scenario.title} ({where}), as of {query.as_of.isoformat()}, "
            f"horizon {query.lifecycle_years:g} years{paid}",
            style="bold",
        )
    )
    table = Table(expand=True, show_lines=True)
    table.add_column("#", no_wrap=True)
    table.add_column("image" if query.cloud else "release", ratio=1)
    table.add_column("score", no_wrap=True)
    table.add_column("why (+) / watch out (!)", ratio=2)
    for candidate in result.candidates[:limit]:
        detail = Text("\n".join(f"+ {r}" for r in candidate.reasons), style="green")
        if candidate.warnings:
            detail.append("\n" + "\n".join(f"! {w}" for w in candidate.warnings), style="yellow")
        table.add_row(
            str(candidate.rank),
            Text(_title(candidate), style="bold")
            + Text(f"\nsupport until {_support_text(candidate)}", style="dim"),
            f"{candidate.score:.1f}",
            detail,
        )
    console.print(table)
    lines = lookup_lines(result, limit)
    if lines:  # written past Rich: a console would wrap them at its width
        buffer.write("find them:\n" + "".join(f"  {line}\n" for line in lines))
    console.print(Text(f"guide: {result.scenario.guide}", style="dim"))
    if result.rejected:
        console.print(Text(f"rejected ({len(result.rejected)}):", style="bold red"))
        for rejected in result.rejected:
            label = rejected.release.release + (f" ({rejected.offering.image})" if rejected.offering else "")
            console.print(Text(f"  x {label}: {'; '.join(rejected.reasons)}", style="red"))
    return buffer.getvalue()
