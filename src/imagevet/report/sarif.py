"""SARIF 2.1.0 output: one rule per check run, one result per failed, waived or undecided check.

Passing and skipped checks are left out, as code-scanning consumers treat every result as an alert.
Evidence with a file becomes a location relative to the image root (``uriBaseId`` IMAGEROOT).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imagevet.model import CheckResult, Report, Severity, Status

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads properties.security-severity (a CVSS-like score) to rank alerts.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def _remediation_text(result: CheckResult) -> str:
    lines = []
    for step in result.remediation:
        if step.kind == "note":
            lines.append(step.text)
        elif step.kind == "file":
            lines.append(f"Write {step.path}:\n{step.text}")
        else:
            lines.append(f"Run: {step.text}")
        if step.description:
            lines.append(step.description)
    return "\n".join(lines)


def _rule(result: CheckResult) -> dict[str, Any]:
    return {
        "id": result.check,
        "name": "".join(part.capitalize() for part in result.check.split("-")),
        "shortDescription": {"text": result.title},
        "fullDescription": {"text": result.rationale},
        "help": {"text": f"{result.rationale}\n\nRemediation:\n{_remediation_text(result)}"},
        "defaultConfiguration": {"level": _LEVEL[result.severity]},
        "properties": {
            "security-severity": _SECURITY_SEVERITY[result.severity],
            "tags": ["security", "image-audit"],
            "references": list(result.references),
        },
    }


def _result(result: CheckResult, index: int) -> dict[str, Any]:
    evidence = "; ".join(str(e) for e in result.evidence)
    entry: dict[str, Any] = {
        "ruleId": result.check,
        "ruleIndex": index,
        "kind": "fail" if result.status in (Status.FAIL, Status.WAIVED) else "review",
        "level": _LEVEL[result.severity] if result.status is not Status.ERROR else "warning",
        "message": {"text": f"{result.title}: {result.status.value}. {evidence}".strip()},
    }
    locations = []
    for item in result.evidence:
        if item.path is None:
            continue
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": item.path.lstrip("/"), "uriBaseId": "IMAGEROOT"}
        }
        if item.line is not None:
            physical["region"] = {"startLine": item.line}
        locations.append({"physicalLocation": physical, "message": {"text": item.detail}})
    if locations:
        entry["locations"] = locations
    if result.status is Status.WAIVED and result.waiver is not None:
        # No "status"/"state" field: the 2.1.0 committee and errata schemas name it differently.
        entry["suppressions"] = [{"kind": "external", "justification": result.waiver.reason}]
    return entry


def render_sarif(report: Report) -> str:
    rules = [_rule(r) for r in report.results]
    index = {r.check: i for i, r in enumerate(report.results)}
    results = [
        _result(r, index[r.check])
        for r in report.results
        if r.status in (Status.FAIL, Status.WAIVED, Status.ERROR)
    ]
    root_uri = Path(report.target.path).resolve().as_uri().rstrip("/") + "/"
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "imagevet",
                        "version": report.tool_version,
                        "informationUri": "https://pypi.org/project/imagevet/",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"IMAGEROOT": {"uri": root_uri}},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {"level": "note", "message": {"text": n}} for n in report.notices
                        ],
                    }
                ],
                "results": results,
                "properties": {
                    "asOf": report.as_of.isoformat(),
                    "os": None if report.os is None else report.os.pretty_name,
                },
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
