"""SARIF 2.1.0, the one builder for ``audit`` and ``vuln``: rules, results, levels, locations, invocation.

Both reports become a log of one run whose rules and results are made by ``rule`` and ``result`` from the
report's JSON document (never from the report objects, so the SARIF says what the JSON says). Levels and
``security-severity`` scores come from the one severity scale (``model.Severity``). Audit results are the
failed, waived and undecided checks (passing and skipped ones are left out, as code-scanning consumers
treat every result as an alert); evidence with a file becomes a location relative to the image root
(``uriBaseId`` IMAGEROOT). Vuln results are the findings, waived ones with a suppression.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from imagevet.model import Evidence, Severity
from imagevet.report.filter import hidden_line

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/imagevet/"
_ALERTS = ("fail", "waived", "error")


def rule(
    rule_id: str,
    severity: str,
    short: str,
    tags: list[str],
    *,
    name: str | None = None,
    full: str | None = None,
    help_text: str | None = None,
    help_uri: str | None = None,
    references: list[str] | None = None,
) -> dict[str, Any]:
    """A rule, with its default level and security-severity from the severity scale."""
    grade = Severity.of(severity)
    entry: dict[str, Any] = {"id": rule_id}
    if name is not None:
        entry["name"] = name
    entry["shortDescription"] = {"text": short}
    if full is not None:
        entry["fullDescription"] = {"text": full}
    if help_text is not None:
        entry["help"] = {"text": help_text}
    if help_uri is not None:
        entry["helpUri"] = help_uri
    entry["defaultConfiguration"] = {"level": grade.sarif_level}
    entry["properties"] = {"security-severity": grade.security_severity, "tags": tags}
    if references is not None:
        entry["properties"]["references"] = references
    return entry


def result(
    rule_id: str,
    index: int,
    level: str,
    message: str,
    *,
    kind: str = "fail",
    locations: list[dict[str, Any]] | None = None,
    suppressed: str | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A result of rule ``index``; ``suppressed`` is the justification of a waiver."""
    entry: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": index,
        "kind": kind,
        "level": level,
        "message": {"text": message},
    }
    if locations:
        entry["locations"] = locations
    if suppressed is not None:
        # No "status"/"state" field: the 2.1.0 committee and errata schemas name it differently.
        entry["suppressions"] = [{"kind": "external", "justification": suppressed}]
    if properties is not None:
        entry["properties"] = properties
    return entry


def log(
    document: dict[str, Any],
    rules: list[dict[str, Any]],
    results: list[dict[str, Any]],
    *,
    root_uri: str | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The SARIF log of one run: the tool, its rules, the invocation (the report's notices) and results;
    a ``--severity`` filter is said in a notification and in the run's properties."""
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "imagevet",
                "version": document["tool"]["version"],
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        }
    }
    if root_uri is not None:
        run["originalUriBaseIds"] = {"IMAGEROOT": {"uri": root_uri}}
    notices = list(document["notices"])
    if "filter" in document:
        notices.append(hidden_line(document["filter"]))
    run["invocations"] = [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [{"level": "note", "message": {"text": n}} for n in notices],
        }
    ]
    run["results"] = results
    properties = dict(properties or {})
    if "filter" in document:
        properties["severityFilter"] = document["filter"]["severity"]
        properties["hiddenResults"] = document["filter"]["hidden"]
    if properties:
        run["properties"] = properties
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _remediation_text(steps: list[dict[str, Any]]) -> str:
    lines = []
    for step in steps:
        if step["kind"] == "note":
            lines.append(step["note"])
            continue
        lines.append(
            f"Write {step['path']}:\n{step['content']}" if step["kind"] == "file" else f"Run: {step['run']}"
        )
        if step["note"]:
            lines.append(step["note"])
    return "\n".join(lines)


def _locations(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    locations = []
    for item in evidence:
        if item["path"] is None:
            continue
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": item["path"].lstrip("/"), "uriBaseId": "IMAGEROOT"}
        }
        if item["line"] is not None:
            physical["region"] = {"startLine": item["line"]}
        locations.append({"physicalLocation": physical, "message": {"text": item["detail"]}})
    return locations


def audit_log(document: dict[str, Any]) -> dict[str, Any]:
    """An ``imagevet/audit/v1`` document as SARIF: one rule per check shown, a result per alert."""
    shown = document["results"]
    rules = [
        rule(
            r["check"],
            r["severity"],
            r["title"],
            ["security", "image-audit"],
            name="".join(part.capitalize() for part in r["check"].split("-")),
            full=r["rationale"],
            help_text=f"{r['rationale']}\n\nRemediation:\n{_remediation_text(r['remediation'])}",
            references=r["references"],
        )
        for r in shown
    ]
    results = []
    for index, r in enumerate(shown):
        if r["status"] not in _ALERTS:
            continue
        evidence = "; ".join(str(Evidence(**e)) for e in r["evidence"])
        waiver = r["waiver"]
        results.append(
            result(
                r["check"],
                index,
                "warning" if r["status"] == "error" else Severity.of(r["severity"]).sarif_level,
                f"{r['title']}: {r['status']}. {evidence}".strip(),
                kind="fail" if r["status"] in ("fail", "waived") else "review",
                locations=_locations(r["evidence"]),
                suppressed=waiver["reason"] if r["status"] == "waived" and waiver else None,
            )
        )
    root_uri = Path(document["target"]["path"]).resolve().as_uri().rstrip("/") + "/"
    os_name = None if document["os"] is None else document["os"]["pretty_name"]
    return log(
        document, rules, results, root_uri=root_uri, properties={"asOf": document["as_of"], "os": os_name}
    )


def vuln_log(document: dict[str, Any]) -> dict[str, Any]:
    """An ``imagevet/vuln/v1`` document as SARIF: one rule per advisory, a result per finding shown."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for finding in document["findings"]:
        advisory = finding["id"]
        if advisory not in rules:
            rules[advisory] = rule(
                advisory,
                finding["severity"],
                finding["summary"] or advisory,
                ["security", "vulnerability", *finding["aliases"][:5]],
                help_uri=f"https://osv.dev/vulnerability/{advisory}",
            )
        fix = f"fixed in {finding['fixed']}" if finding["fixed"] else "no fix yet"
        aliases = ", ".join(finding["aliases"][:3]) or "no aliases"
        waiver = finding["waiver"]
        results.append(
            result(
                advisory,
                list(rules).index(advisory),
                Severity.of(finding["severity"]).sarif_level,
                f"{finding['package']} {finding['installed']} is affected by {advisory} ({aliases}); {fix}",
                suppressed=None if waiver is None else waiver["reason"],
                properties={k: finding[k] for k in ("package", "installed", "fixed", "source")},
            )
        )
    return log(document, list(rules.values()), results)
