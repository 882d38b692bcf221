"""The report of `imagevet packages`: ``document`` (``imagevet/packages/v1`` as data), ``Format`` (table,
json, cyclonedx, spdx) and ``render``. The SBOMs are made from the document (report/sbom.py)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from imagevet import __version__
from imagevet.model import OsRelease, Package, TargetInfo
from imagevet.report.json_report import os_dict, target_dict, to_json
from imagevet.report.text import safe

if TYPE_CHECKING:
    from imagevet.inventory.collect import Inventory

SCHEMA = "imagevet/packages/v1"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CYCLONEDX = "cyclonedx"
    SPDX = "spdx"


@dataclass(frozen=True)
class PackagesReport:
    target: TargetInfo
    os: OsRelease | None
    inventory: Inventory
    created: dt.datetime  # the moment the SBOM is created (an input, so output is reproducible in tests)


def package_dict(package: Package) -> dict[str, Any]:
    return {
        "name": package.name,
        "version": package.version,
        "epoch": package.epoch,
        "release": package.release or None,
        "arch": package.arch,
        "source": package.source,
        "source_version": package.source_version,
        "license": package.license or None,
        "purl": package.purl,
        "type": package.type,
    }


def document(report: PackagesReport) -> dict[str, Any]:
    """The inventory as plain data; ``created`` is the moment the SBOMs made from it are dated."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "imagevet", "version": __version__},
        "target": target_dict(report.target),
        "os": os_dict(report.os),
        "databases": list(report.inventory.databases),
        "packages": [package_dict(p) for p in report.inventory.packages],
        "created": report.created.isoformat(),
    }


def render(data: dict[str, Any], fmt: Format, *, color: bool = False, width: int = 80) -> str:
    """``data`` (a packages document) as ``fmt``; ``color`` and ``width`` are for the table."""
    if fmt is Format.JSON:
        return to_json(data)
    if fmt is Format.CYCLONEDX:
        from imagevet.report.sbom import cyclonedx

        return cyclonedx(data)
    if fmt is Format.SPDX:
        from imagevet.report.sbom import spdx

        return to_json(spdx(data))
    return _table(data, color=color, width=width)


def render_json(report: PackagesReport) -> str:
    """The document of ``report`` as JSON, for callers that hold the report (the service's audit job)."""
    return to_json(document(report))


def _table(data: dict[str, Any], *, color: bool, width: int) -> str:
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    os_label = data["os"]["pretty_name"] if data["os"] else "unknown OS"
    packages = data["packages"]
    table = Table(
        title=safe(f"{len(packages)} packages in {data['target']['path']} ({os_label})"),
        title_justify="left",
        expand=True,
    )
    for column in ("type", "name", "version", "arch", "source"):
        table.add_column(column, overflow="fold")
    for package in packages:
        source = (
            package["source"]
            if package["source"] == package["name"]
            else f"{package['source']} {package['source_version']}"
        )
        table.add_row(package["type"], package["name"], package["version"], package["arch"], source)
    console.print(table)
    return buffer.getvalue()
