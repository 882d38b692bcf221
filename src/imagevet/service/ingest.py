"""Turning the CLI's own JSON documents into rows. Pure functions over parsed documents; the routes
do the database work."""

from __future__ import annotations

from typing import Any

SCHEMAS = ("imagevet/audit/v1", "imagevet/packages/v1", "imagevet/vuln/v1")


class DocumentError(ValueError):
    """A document the service cannot take (unknown schema, missing fields)."""


def schema_of(document: Any) -> str:
    if not isinstance(document, dict) or document.get("schema") not in SCHEMAS:
        raise DocumentError(f"schema must be one of {', '.join(SCHEMAS)}")
    return str(document["schema"])


# The widths of the inventory's columns (service/db.py): PostgreSQL enforces them, so a longer value is the
# document's fault (422), not the server's (500).
PACKAGE_WIDTHS = {"name": 256, "version": 256, "source": 256, "source_version": 256, "arch": 32,
                  "purl": 4096, "type": 8}  # fmt: skip
FINDING_WIDTHS = {"vuln_id": 128, "package": 256, "installed": 256, "fixed": 256, "severity": 16}


def _fits(row: dict[str, Any], widths: dict[str, int], what: str) -> dict[str, Any]:
    for key, width in widths.items():
        value = row.get(key)
        if isinstance(value, str) and len(value) > width:
            raise DocumentError(f"{what} {key} longer than {width} characters")
    return row


def packages_of(document: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for item in document.get("packages") or []:
        if not isinstance(item, dict) or not item.get("name") or not item.get("version"):
            raise DocumentError("every package needs a name and a version")
        row = {
            key: str(item.get(key) or "")
            for key in ("name", "version", "source", "source_version", "arch", "purl")
        }
        rows.append(_fits({**row, "type": str(item.get("type") or "deb")}, PACKAGE_WIDTHS, "package"))
    return rows


def findings_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for item in document.get("findings") or []:
        if not isinstance(item, dict) or not item.get("id") or not item.get("package"):
            raise DocumentError("every finding needs an id and a package")
        if item.get("waiver"):
            continue  # accepted risk: kept in the report, not counted as exposure
        rows.append(_fits({
            "vuln_id": str(item["id"]), "aliases": [str(a) for a in item.get("aliases") or []],
            "package": str(item["package"]), "installed": str(item.get("installed") or ""),
            "fixed": item.get("fixed"), "severity": str(item.get("severity") or "unknown"),
        }, FINDING_WIDTHS, "finding"))  # fmt: skip
    return rows


def audit_summary(document: dict[str, Any]) -> dict[str, Any]:
    summary = document.get("summary")
    return dict(summary) if isinstance(summary, dict) else {}
