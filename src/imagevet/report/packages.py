"""Renderers for `imagevet packages`: table, JSON (imagevet/packages/v1), CycloneDX 1.5 and SPDX 2.3 JSON."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from imagevet import __version__
from imagevet.errors import ImagevetError
from imagevet.inventory.collect import Inventory
from imagevet.model import OsRelease, Package, TargetInfo
from imagevet.report.json_report import os_dict, target_dict
from imagevet.report.text import safe

SCHEMA = "imagevet/packages/v1"


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


def render_json(report: PackagesReport) -> str:
    document = {
        "schema": SCHEMA,
        "tool": {"name": "imagevet", "version": __version__},
        "target": target_dict(report.target),
        "os": os_dict(report.os),
        "databases": list(report.inventory.databases),
        "packages": [package_dict(p) for p in report.inventory.packages],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_table(report: PackagesReport, *, color: bool = False, width: int = 120) -> str:
    from rich.console import Console
    from rich.table import Table

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    os_label = report.os.pretty_name if report.os else "unknown OS"
    table = Table(
        title=safe(f"{len(report.inventory.packages)} packages in {report.target.path} ({os_label})"),
        title_justify="left",
        expand=True,
    )
    for column in ("type", "name", "version", "arch", "source"):
        table.add_column(column, overflow="fold")
    for package in report.inventory.packages:
        source = (
            package.source if package.source == package.name else f"{package.source} {package.source_version}"
        )
        table.add_row(package.type, package.name, package.version, package.arch, source)
    console.print(table)
    return buffer.getvalue()


def _document_id(report: PackagesReport) -> str:
    """A stable identifier for the SBOM: the same image and packages give the same id."""
    digest = hashlib.sha256()
    digest.update(report.target.path.encode())
    for package in report.inventory.packages:
        digest.update(package.purl.encode() + b"\n")
    return digest.hexdigest()


def render_spdx(report: PackagesReport) -> str:
    """SPDX 2.3 JSON: one package per installed package, with its purl, described by the document."""
    from imagevet.report.spdx_license import spdx_expression

    name = f"imagevet-{report.target.path}"
    packages = []
    relationships = []
    for index, package in enumerate(report.inventory.packages, start=1):
        spdx_id = f"SPDXRef-Package-{package.type}-{index}"
        entry: dict[str, Any] = {
            "SPDXID": spdx_id,
            "name": package.name,
            "versionInfo": package.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": spdx_expression(package.license),
            "copyrightText": "NOASSERTION",
            "primaryPackagePurpose": "LIBRARY",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": package.purl,
                }
            ],
        }
        if package.source and package.source != package.name:
            entry["sourceInfo"] = (
                f"built from source package {package.source} {package.source_version}".strip()
            )
        if package.license and entry["licenseDeclared"] == "NOASSERTION":
            entry["comment"] = f"license as recorded by the package database: {package.license}"
        packages.append(entry)
        relationships.append(
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": spdx_id,
            }
        )
    document = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": f"https://imagevet.invalid/spdx/{_document_id(report)}",
        "creationInfo": {
            "created": report.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creators": [f"Tool: imagevet-{__version__}"],
        },
        "packages": packages,
        "relationships": relationships,
    }
    if report.os is not None:
        document["comment"] = f"Installed OS packages of {report.os.pretty_name or report.os.id}"
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_cyclonedx(report: PackagesReport) -> str:
    """CycloneDX 1.5 JSON through cyclonedx-python-lib (the `sbom` extra)."""
    try:
        from cyclonedx.model import Property
        from cyclonedx.model.bom import Bom
        from cyclonedx.model.component import Component, ComponentType
        from cyclonedx.model.license import LicenseExpression
        from cyclonedx.output.json import JsonV1Dot5
        from packageurl import PackageURL
    except ImportError as exc:
        raise ImagevetError("CycloneDX output needs the sbom extra: pip install 'imagevet[sbom]'") from exc
    from imagevet.report.spdx_license import spdx_expression

    bom = Bom()
    bom.metadata.timestamp = report.created
    subject = Component(
        name=report.os.id if report.os else report.target.path,
        version=report.os.version_id if report.os else None,
        type=ComponentType.OPERATING_SYSTEM,
        bom_ref="os",
        description=report.os.pretty_name if report.os else None,
    )
    bom.metadata.component = subject
    for package in report.inventory.packages:
        component = Component(
            name=package.name,
            version=package.version,
            type=ComponentType.LIBRARY,
            purl=PackageURL.from_string(package.purl),
            bom_ref=package.purl,
        )
        expression = spdx_expression(package.license)
        if expression != "NOASSERTION":
            component.licenses.add(LicenseExpression(expression))
        for key, value in (
            ("arch", package.arch),
            ("source", package.source),
            ("source_version", package.source_version),
            ("package_type", package.type),
        ):
            if value:
                component.properties.add(Property(name=f"imagevet:{key}", value=value))
        bom.components.add(component)
        bom.register_dependency(subject, [component])
    return str(JsonV1Dot5(bom).output_as_string(indent=2)) + "\n"
