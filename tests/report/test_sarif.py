"""The one SARIF builder: audit levels and scores come from the severity scale, undecided checks are
warnings to review, and a --severity filter shows in the log (valid against the OASIS 2.1.0 schema)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema

from imagevet.audit import run_audit, select_checks
from imagevet.checks.base import CheckOptions
from imagevet.model import Severity
from imagevet.report import audit
from imagevet.report.filter import parse_severities
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES

SCHEMA = json.loads((Path(__file__).parents[1] / "schemas/sarif-schema-2.1.0.json").read_text())
REPORT = run_audit(
    RootfsTarget(str(FIXTURES / "rootfs" / "weak-rocky9")),
    CheckOptions(dt.date(2026, 11, 28)),
    select_checks(None),
)


def test_levels_and_scores_come_from_the_scale() -> None:
    log = json.loads(audit.render(audit.document(REPORT), audit.Format.SARIF))
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_check = {r.check: r for r in REPORT.results}
    for rule in rules:
        grade = by_check[rule["id"]].severity
        assert rule["properties"]["security-severity"] == grade.security_severity
        assert rule["defaultConfiguration"]["level"] == grade.sarif_level
    for result in run["results"]:
        checked = by_check[result["ruleId"]]
        if checked.status.value == "error":
            assert (result["level"], result["kind"]) == ("warning", "review")
        else:
            assert (result["level"], result["kind"]) == (checked.severity.sarif_level, "fail")
    assert {r["level"] for r in run["results"]} >= {"error", "warning"}


def test_a_filtered_log_is_valid_and_says_what_it_hides() -> None:
    shown = parse_severities("medium,low")
    log = json.loads(audit.render(audit.document(REPORT, shown), audit.Format.SARIF))
    jsonschema.Draft7Validator(SCHEMA).validate(log)
    run = log["runs"][0]
    by_check = {r.check: r for r in REPORT.results}
    severities = {by_check[rule["id"]].severity for rule in run["tool"]["driver"]["rules"]}
    assert severities == {Severity.MEDIUM, Severity.LOW}
    hidden = sum(1 for r in REPORT.results if r.severity not in shown.shown)
    assert run["properties"]["hiddenResults"] == hidden and run["properties"]["severityFilter"] == [
        "low",
        "medium",
    ]
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert f"{hidden} results are outside --severity low,medium and not shown" in notes[-1]
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
