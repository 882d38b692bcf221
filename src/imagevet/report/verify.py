"""The report of `imagevet verify`: ``document`` (``imagevet/verify/v1`` as data), ``Format`` (table,
json) and ``render``; the table is made from the document."""

from __future__ import annotations

import io
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from imagevet.report.json_report import to_json

if TYPE_CHECKING:
    from imagevet.provenance.model import Verification

SCHEMA = "imagevet/verify/v1"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


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


def render(data: dict[str, Any], fmt: Format, *, color: bool = False, width: int = 100) -> str:
    """``data`` (a verify document) as ``fmt``; ``color`` and ``width`` are for the table."""
    if fmt is Format.JSON:
        return to_json(data)
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    table = Table(show_header=False, title=f"{data['cloud']} {data['image_id']}", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    verdict = data["verdict"]
    table.add_row("verdict", Text(verdict, style=STYLE[verdict]))
    age = data["age_days"]
    rows = {
        "publisher": data["publisher"],
        "owner": data["owner"],
        "name": data["name"],
        "os": " ".join(p for p in (data["os"]["distro"], data["os"]["version"]) if p) or None,
        "created": data["created"][:10] if data["created"] else None,
        "age": f"{age} days" if age is not None else None,
        "deprecated": "yes" if data["deprecated"] else ("no" if verdict != "unknown" else None),
        "newer official": data["newer_official"],
    }
    for label, value in rows.items():
        if value:
            table.add_row(label, value)
    for reason in data["reasons"]:
        table.add_row("why", reason)
    for alternative in data["alternatives"]:
        identifiers = ", ".join(
            f"{k}={v}" for k, v in alternative.items() if k not in ("release", "name", "publisher")
        )
        table.add_row(
            "official instead", f"{alternative['name']} ({alternative['publisher']}): {identifiers}"
        )
    console.print(table)
    return buffer.getvalue()
