"""SBOMs of an ``imagevet/packages/v1`` document: SPDX 2.3 JSON (as data) and CycloneDX 1.5 JSON (through
cyclonedx-python-lib, the ``sbom`` extra, imported only when chosen)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from imagevet import __version__
from imagevet.errors import ImagevetError
from imagevet.report.spdx_license import spdx_expression


def _document_id(data: dict[str, Any]) -> str:
    """A stable identifier for the SBOM: the same image and packages give the same id."""
    digest = hashlib.sha256()
    digest.update(data["target"]["path"].encode())
    for package in data["packages"]:
        digest.update(package["purl"].encode() + b"\n")
    return digest.hexdigest()


def _spdx_package(package: dict[str, Any], spdx_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "SPDXID": spdx_id,
        "name": package["name"],
        "versionInfo": package["version"],
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": spdx_expression(package["license"] or ""),
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "LIBRARY",
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": package["purl"],
            }
        ],
    }
    if package["source"] and package["source"] != package["name"]:
        entry["sourceInfo"] = (
            f"built from source package {package['source']} {package['source_version']}".strip()
        )
    if package["license"] and entry["licenseDeclared"] == "NOASSERTION":
        entry["comment"] = f"license as recorded by the package database: {package['license']}"
    return entry


def spdx(data: dict[str, Any]) -> dict[str, Any]:
    """SPDX 2.3: one package per installed package, with its purl, described by the document."""
    packages = []
    relationships = []
    for index, package in enumerate(data["packages"], start=1):
        spdx_id = f"SPDXRef-Package-{package['type']}-{index}"
        packages.append(_spdx_package(package, spdx_id))
        relationships.append(
            {
                "spdxElementId": "SPDXRef-DOCUMENT",
                "relationshipType": "DESCRIBES",
                "relatedSpdxElement": spdx_id,
            }
        )
    created = dt.datetime.fromisoformat(data["created"])
    document: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"imagevet-{data['target']['path']}",
        "documentNamespace": f"https://imagevet.invalid/spdx/{_document_id(data)}",
        "creationInfo": {
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creators": [f"Tool: imagevet-{__version__}"],
        },
        "packages": packages,
        "relationships": relationships,
    }
    if data["os"] is not None:
        document["comment"] = f"Installed OS packages of {data['os']['pretty_name'] or data['os']['id']}"
    return document


def cyclonedx(data: dict[str, Any]) -> str:
    """CycloneDX 1.5 JSON text through cyclonedx-python-lib (the `sbom` extra)."""
    try:
        from cyclonedx.model import Property
        from cyclonedx.model.bom import Bom
        from cyclonedx.model.component import Component, ComponentType
        from cyclonedx.model.license import LicenseExpression
        from cyclonedx.output.json import JsonV1Dot5
        from packageurl import PackageURL
    except ImportError as exc:
        raise ImagevetError("CycloneDX output needs the sbom extra: pip install 'imagevet[sbom]'") from exc

    os = data["os"]
    bom = Bom()
    bom.metadata.timestamp = dt.datetime.fromisoformat(data["created"])
    subject = Component(
        name=os["id"] if os else data["target"]["path"],
        version=os["version_id"] if os else None,
        type=ComponentType.OPERATING_SYSTEM,
        bom_ref="os",
        description=os["pretty_name"] if os else None,
    )
    bom.metadata.component = subject
    for package in data["packages"]:
        component = Component(
            name=package["name"],
            version=package["version"],
            type=ComponentType.LIBRARY,
            purl=PackageURL.from_string(package["purl"]),
            bom_ref=package["purl"],
        )
        expression = spdx_expression(package["license"] or "")
        if expression != "NOASSERTION":
            component.licenses.add(LicenseExpression(expression))
        for key, field in (
            ("arch", "arch"),
            ("source", "source"),
            ("source_version", "source_version"),
            ("package_type", "type"),
        ):
            if package[field]:
                component.properties.add(Property(name=f"imagevet:{key}", value=package[field]))
        bom.components.add(component)
        bom.register_dependency(subject, [component])
    return str(JsonV1Dot5(bom).output_as_string(indent=2)) + "\n"
