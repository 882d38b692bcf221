"""Renderers for `imagevet catalog images`: JSON (imagevet/catalog-images/v1) and a table whose lookup
commands are printed whole, one per line, after it."""

from __future__ import annotations

import io
import json
from typing import Any

from imagevet.catalog.image_overrides import latest
from imagevet.catalog.model import Offering
from imagevet.recommend.lookup import lookup_command, lookup_record

SCHEMA = "imagevet/catalog-images/v1"


def lookup_with_latest(offering: Offering) -> dict[str, Any]:
    """The lookup record, with the latest image the cloud gave (image-overrides.yaml) as ``latest``."""
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


def images_json(offerings: list[Offering]) -> str:
    document = {"schema": SCHEMA, "images": [image_dict(o) for o in offerings]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def images_table(offerings: list[Offering], *, color: bool = False, width: int = 120) -> str:
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    table = Table(expand=True)
    for column in ("cloud", "image", "release", "variant", "paid", "name"):
        table.add_column(column, no_wrap=column in ("cloud", "variant"))
    for o in offerings:
        mark = " *" if o.uncertain else ""
        table.add_row(o.cloud, o.image, o.release, o.variant, o.paid or "-", o.name + mark)
    console.print(table)
    buffer.write("* not every fact verified from a primary source (see --format json)\n")
    buffer.write("lookups:\n")
    for o in offerings:
        buffer.write(f"  {o.cloud}/{o.image}: {lookup_command(o)}\n")
        found = latest(dict(o.lookup))[1]
        if found is not None and found.get("status") == "found":
            buffer.write(f"    latest in {found['region']}: {found['id']} (checked {found['checked']})\n")
        elif found is not None and found.get("status") == "missing":
            buffer.write(f"    latest in {found['region']}: MISSING, the lookup returned nothing\n")
    return buffer.getvalue()
