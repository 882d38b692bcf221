"""Renderers for `imagevet lifecycle`: JSON (imagevet/lifecycle/v1) and a colour-coded table."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

from imagevet.catalog.lifecycle import END_OF_LIFE, EXTENDED_ONLY, SUPPORTED, lifecycle_status
from imagevet.catalog.model import Release, SupportTier

SCHEMA = "imagevet/lifecycle/v1"
STYLE = {SUPPORTED: "green", EXTENDED_ONLY: "yellow", END_OF_LIFE: "red"}


def tier_record(tier: SupportTier, *, how: bool = False) -> dict[str, Any]:
    """A support tier as the JSON documents show it (``how`` too where the reader weighs its cost)."""
    record: dict[str, Any] = {
        "tier": tier.tier,
        "name": tier.name,
        "ends": None if tier.ends is None else tier.ends.isoformat(),
        "cost": tier.cost,
    }
    if how:
        record["how"] = tier.how or None
    record["source"] = tier.source.cite()
    return record


def release_row(release: Release, as_of: dt.date) -> dict[str, Any]:
    status = lifecycle_status(release, as_of)
    return {
        "release": release.release,
        "distro": release.distro,
        "name": release.name,
        "version": release.version,
        "lts": release.lts,
        "status": status.status,
        "eol": None if release.eol is None else release.eol.isoformat(),
        "extended_eol": None if release.extended_eol is None else release.extended_eol.isoformat(),
        "extended_kind": release.extended_kind,
        "days_left": status.days_left,
        "tiers": [tier_record(t) for t in release.tiers],
        "rolling": release.rolling,
        "sources": list(release.citations()),
        "uncertain": list(release.uncertain),
    }


def render_json(releases: list[Release], as_of: dt.date) -> str:
    document = {
        "schema": SCHEMA,
        "as_of": as_of.isoformat(),
        "releases": [release_row(r, as_of) for r in releases],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_table(releases: list[Release], as_of: dt.date, *, color: bool = False, width: int = 120) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    table = Table(title=f"Release lifecycle as of {as_of.isoformat()}", title_justify="left", expand=True)
    for column in (
        "release",
        "name",
        "LTS",
        "status",
        "security support until",
        "days left",
        "extended until",
    ):
        table.add_column(column, no_wrap=column != "name")
    for release in releases:
        row = release_row(release, as_of)
        style = STYLE.get(row["status"], "magenta")
        table.add_row(
            row["release"],
            row["name"],
            "yes" if row["lts"] else "no",
            Text(row["status"], style=style),
            row["eol"] or "unknown",
            "" if row["days_left"] is None else str(row["days_left"]),
            (row["extended_eol"] or "-") + (" *" if row["uncertain"] else ""),
        )
    console.print(table)
    console.print(Text("* some facts not verified from a primary source (see --format json)", style="dim"))
    return buffer.getvalue()
