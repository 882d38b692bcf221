"""The report of `imagevet packages`: ``document`` (``imagevet/packages/v1`` as data), ``Format`` (table,
json, cyclonedx, spdx) and ``render``. The SBOMs are made from the document (report/sbom.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from imagevet import __version__
from imagevet.model import OsRelease, Package, TargetInfo
from imagevet.report.json_report import os_dict, target_dict, to_json
from imagevet.report.layout import Cell, Page
from imagevet.report.text import safe

if TYPE_CHECKING:
    from imagevet.inventory.collect import Inventory

SCHEMA = "imagevet/packages/v1"


COLUMNS = ("type", "name", "version", "arch", "source")


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
    """One aligned row per package when the columns fit the width, else each package stacked (type, name
    and arch on one line, version and source below), so no name or version is ever cut."""
    page = Page(width)
    os_label = data["os"]["pretty_name"] if data["os"] else "unknown OS"
    packages = data["packages"]
    page.text(safe(f"{len(packages)} packages in {data['target']['path']} ({os_label})"), "bold")
    rows: list[list[Cell]] = []
    for package in packages:
        source = (
            "" if package["source"] == package["name"] else f"{package['source']} {package['source_version']}"
        )
        cells = (package["type"], package["name"], package["version"], package["arch"], source)
        rows.append([(safe(cell), "") for cell in cells])
    header: list[Cell] = [(column, "bold") for column in COLUMNS]
    if rows and not page.grid([header, *rows], indent=2):
        for kind, name, version, arch, source in ([text for text, _ in row] for row in rows):
            page.line(("  ", ""), (f"{kind}  ", "dim"), (name, "bold"), (f"  {arch}", ""))
            page.text(version + (f" (source {source})" if source else ""), indent=6)
    return page.render(color)
