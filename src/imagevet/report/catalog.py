"""The report of `imagevet catalog images`: ``document`` (``imagevet/catalog-images/v1`` as data),
``Format`` (table, json) and ``render``: a table whose lookup commands are printed whole, one per line,
after it, made from the document."""

from __future__ import annotations

import io
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from imagevet.report.json_report import to_json

if TYPE_CHECKING:
    from imagevet.catalog.model import Offering

SCHEMA = "imagevet/catalog-images/v1"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


def lookup_with_latest(offering: Offering) -> dict[str, Any]:
    """The lookup record, with the latest image the cloud gave (image-overrides.yaml) as ``latest``."""
    from imagevet.catalog.image_overrides import latest
    from imagevet.recommend.lookup import lookup_record

    record, found = latest(lookup_record(offering))
    return record if found is None else {**record, "latest": found}


def image_dict(offering: Offering) -> dict[str, Any]:
    return {
        "cloud": offering.cloud,
        "image": offering.image,
        "release": offering.release,
        "name": offering.name,
        "features": list(offering.features),
        "lookup": lookup_with_latest(offering),
        "sources": list(offering.citations()),
        "notes": offering.notes or None,
    }


def document(offerings: list[Offering]) -> dict[str, Any]:
    """The image families as plain data."""
    return {"schema": SCHEMA, "images": [image_dict(o) for o in offerings]}


def render(data: dict[str, Any], fmt: Format, *, color: bool = False, width: int = 120) -> str:
    """``data`` (a catalog-images document) as ``fmt``; ``color`` and ``width`` are for the table."""
    if fmt is Format.JSON:
        return to_json(data)
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    table = Table(expand=True)
    for column in ("cloud", "image", "release", "variant", "paid", "name"):
        table.add_column(column, no_wrap=column in ("cloud", "variant"))
    for image in data["images"]:
        lookup = image["lookup"]
        mark = " *" if lookup["uncertain"] else ""
        paid = lookup["paid"] or "-"
        table.add_row(
            image["cloud"], image["image"], image["release"], lookup["variant"], paid, image["name"] + mark
        )
    console.print(table)
    buffer.write("* not every fact verified from a primary source (see --format json)\n")
    buffer.write("lookups:\n")
    for image in data["images"]:
        lookup = image["lookup"]
        buffer.write(f"  {image['cloud']}/{image['image']}: {lookup['command']}\n")
        found = lookup.get("latest")
        if found is not None and found.get("status") == "found":
            buffer.write(f"    latest in {found['region']}: {found['id']} (checked {found['checked']})\n")
        elif found is not None and found.get("status") == "missing":
            buffer.write(f"    latest in {found['region']}: MISSING, the lookup returned nothing\n")
    return buffer.getvalue()
