"""The report of `imagevet lifecycle`: ``document`` (``imagevet/lifecycle/v1`` as data), ``Format``
(table, json) and ``render``; the colour-coded table is made from the document."""

from __future__ import annotations

import datetime as dt
import io
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from imagevet.report.json_report import to_json

if TYPE_CHECKING:
    from imagevet.catalog.model import Release, SupportTier

SCHEMA = "imagevet/lifecycle/v1"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


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
    from imagevet.catalog.lifecycle import lifecycle_status

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


def document(releases: list[Release], as_of: dt.date) -> dict[str, Any]:
    """The releases as plain data, judged at ``as_of``."""
    return {
        "schema": SCHEMA,
        "as_of": as_of.isoformat(),
        "releases": [release_row(r, as_of) for r in releases],
    }


def render(data: dict[str, Any], fmt: Format, *, color: bool = False, width: int = 120) -> str:
    """``data`` (a lifecycle document) as ``fmt``; ``color`` and ``width`` are for the table."""
    if fmt is Format.JSON:
        return to_json(data)
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from imagevet.catalog.lifecycle import END_OF_LIFE, EXTENDED_ONLY, SUPPORTED

    style = {SUPPORTED: "green", EXTENDED_ONLY: "yellow", END_OF_LIFE: "red"}
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    table = Table(title=f"Release lifecycle as of {data['as_of']}", title_justify="left", expand=True)
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
    for row in data["releases"]:
        table.add_row(
            row["release"],
            row["name"],
            "yes" if row["lts"] else "no",
            Text(row["status"], style=style.get(row["status"], "magenta")),
            row["eol"] or "unknown",
            "" if row["days_left"] is None else str(row["days_left"]),
            (row["extended_eol"] or "-") + (" *" if row["uncertain"] else ""),
        )
    console.print(table)
    console.print(Text("* some facts not verified from a primary source (see --format json)", style="dim"))
    return buffer.getvalue()
