"""The ``imagevet/audit/v1`` document as data (documented in docs/output-formats.md), and the parts of it
(``os``, ``target``) every other report document shares."""

from __future__ import annotations

import json
from typing import Any

from imagevet.model import (
    CheckResult,
    Evidence,
    OsRelease,
    RemediationStep,
    Report,
    SourceInfo,
    Status,
    TargetInfo,
)

SCHEMA = "imagevet/audit/v1"


def evidence_dict(item: Evidence) -> dict[str, Any]:
    return {"detail": item.detail, "path": item.path, "line": item.line}


def remediation_dict(step: RemediationStep) -> dict[str, Any]:
    if step.kind == "file":
        return {"kind": "file", "path": step.path, "content": step.text, "note": step.description}
    if step.kind == "note":
        return {"kind": "note", "note": step.text}
    return {"kind": "command", "run": step.text, "note": step.description}


def result_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "check": result.check,
        "title": result.title,
        "status": result.status.value,
        "severity": result.severity.value,
        "evidence": [evidence_dict(e) for e in result.evidence],
        "remediation": [remediation_dict(s) for s in result.remediation],
        "rationale": result.rationale,
        "references": list(result.references),
        "waiver": None
        if result.waiver is None
        else {
            "reason": result.waiver.reason,
            "expires": result.waiver.expires.isoformat() if result.waiver.expires else None,
        },
    }


def os_dict(os: OsRelease | None) -> dict[str, Any] | None:
    """The ``os`` object shared by every JSON document imagevet writes."""
    if os is None:
        return None
    return {
        "id": os.id,
        "version_id": os.version_id,
        "name": os.name,
        "pretty_name": os.pretty_name,
        "family": os.family,
    }


def target_dict(target: TargetInfo) -> dict[str, Any]:
    document: dict[str, Any] = {"path": target.path, "kind": target.kind}
    if target.image is not None:
        image = target.image
        document["image"] = {
            "user": image.user,
            "entrypoint": list(image.entrypoint),
            "cmd": list(image.cmd),
            "env": list(image.env),
            "history": image.history,
        }
    if target.source is not None:
        document["source"] = source_dict(target.source)
    return document


def source_dict(source: SourceInfo) -> dict[str, Any]:
    """Where a remote disk image was read from, and what reading it cost (docs/targets.md)."""
    return {
        "kind": source.kind,
        "location": source.location,
        "image_bytes": source.size,
        "block_size": source.block_size,
        "requests": source.requests,
        "bytes_fetched": source.fetched_bytes,
        "bytes_from_cache": source.cached_bytes,
        "fraction_fetched": round(source.fetched_bytes / source.size, 6) if source.size else 0.0,
        **dict(source.details),
    }


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": {"name": "imagevet", "version": report.tool_version},
        "as_of": report.as_of.isoformat(),
        "target": target_dict(report.target),
        "os": os_dict(report.os),
        "results": [result_dict(r) for r in report.results],
        "summary": report.summary(),
        "notices": list(report.notices),
        "gate": gate_dict(report),
    }


def gate_dict(report: Report) -> dict[str, Any]:
    tripping = report.gate_failures()
    return {
        "fail_on": report.gate.fail_on.value if report.gate.fail_on else None,
        "allow_errors": report.gate.allow_errors,
        "passed": not tripping,
        "failed": [r.check for r in tripping if r.status is Status.FAIL],
        "undecided": [r.check for r in tripping if r.status is Status.ERROR],
    }


def to_json(document: Any) -> str:
    """The JSON text of any report document: indented, UTF-8 as it is, one final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
