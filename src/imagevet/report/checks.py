"""The report of `imagevet checks`: ``document`` (``imagevet/checks/v1`` as data: every check's metadata),
``Format`` (table, json) and ``render``."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from imagevet.report.json_report import remediation_dict, to_json

if TYPE_CHECKING:
    from imagevet.checks.metadata import CheckMeta

SCHEMA = "imagevet/checks/v1"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


def document(checks: Iterable[CheckMeta]) -> dict[str, Any]:
    """The checks' metadata as plain data, remediation steps shaped as in the audit document."""
    return {
        "schema": SCHEMA,
        "checks": [
            {
                "id": meta.id,
                "title": meta.title,
                "severity": meta.severity.value,
                "rationale": meta.rationale,
                "remediation": {
                    family: [remediation_dict(step) for step in steps]
                    for family, steps in meta.remediation.items()
                },
                "references": list(meta.references),
            }
            for meta in checks
        ],
    }


def render(data: dict[str, Any], fmt: Format) -> str:
    """``data`` (a checks document) as ``fmt``: the table is id, severity and title."""
    if fmt is Format.JSON:
        return to_json(data)
    lines = [f"{'id':<28} {'severity':<9} title"]
    lines += [f"{c['id']:<28} {c['severity']:<9} {c['title']}" for c in data["checks"]]
    return "\n".join(lines) + "\n"
