"""Renderers for `imagevet verify`: JSON (imagevet/verify/v1) and a short table."""

from __future__ import annotations

import io
import json
from typing import Any

from imagevet.provenance.model import Verification

SCHEMA = "imagevet/verify/v1"
STYLE = {"official": "green", "unofficial": "bold red", "unknown": "magenta"}


def document(result: Verification) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "cloud": result.cloud,
        "image_id": result.image_id,
        "verdict": result.verdict,
        "publisher": result.publisher,
        "owner": result.owner,
        "name": result.name,
        "os": {"distro": result.distro, "version": result.version},
        "created": result.created.isoformat() if result.created else None,
        "age_days": result.age_days,
        "deprecated": result.deprecated,
        "newer_official": result.newer_official,
        "alternatives": list(result.alternatives),
        "reasons": list(result.reasons),
    }


def render_json(result: Verification) -> str:
    return json.dumps(document(result), indent=2, ensure_ascii=False) + "\n"


def render_table(result: Verification, *, color: bool = False, width: int = 100) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    table = Table(show_header=False, title=f"{result.cloud} {result.image_id}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("verdict", Text(result.verdict, style=STYLE[result.verdict]))
    rows = {
        "publisher": result.publisher,
        "owner": result.owner,
        "name": result.name,
        "os": " ".join(p for p in (result.distro, result.version) if p) or None,
        "created": result.created.date().isoformat() if result.created else None,
        "age": f"{result.age_days} days" if result.age_days is not None else None,
        "deprecated": "yes" if result.deprecated else ("no" if result.verdict != "unknown" else None),
        "newer official": result.newer_official,
    }
    for label, value in rows.items():
        if value:
            table.add_row(label, value)
    for reason in result.reasons:
        table.add_row("why", reason)
    for alternative in result.alternatives:
        identifiers = ", ".join(
            f"{k}={v}" for k, v in alternative.items() if k not in ("release", "name", "publisher")
        )
        table.add_row(
            "official instead", f"{alternative['name']} ({alternative['publisher']}): {identifiers}"
        )
    console.print(table)
    return buffer.getvalue()
