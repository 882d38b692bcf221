"""Every output format, validated: our JSON schema, the OASIS SARIF 2.1.0 schema, JUnit structure."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from imagevet.audit import run_audit, select_checks
from imagevet.checks.base import CheckOptions
from imagevet.checks.registry import CHECKS
from imagevet.model import Report
from imagevet.report import AuditFormat, render_audit
from imagevet.target import RootfsTarget
from imagevet.waivers import parse_waivers
from tests.conftest import FIXTURES, PROJECT

AS_OF = dt.date(2026, 11, 28)
CASES = ["hardened-debian", "weak-rocky9", "alpine-container", "default-passwords"]


def report_for(name: str) -> Report:
    waivers = parse_waivers("waivers:\n  - check: ssh-root-login\n    reason: r\n", set(CHECKS), AS_OF)
    return run_audit(
        RootfsTarget(str(FIXTURES / "rootfs" / name)), CheckOptions(AS_OF), select_checks(None), waivers
    )


@pytest.mark.parametrize("name", CASES)
def test_json_matches_documented_schema(name: str) -> None:
    schema = json.loads((PROJECT / "docs/schemas/audit-v1.schema.json").read_text())
    document = json.loads(render_audit(report_for(name), AuditFormat.JSON))
    jsonschema.validate(document, schema)


@pytest.mark.parametrize("name", CASES)
def test_sarif_is_valid_sarif_2_1_0(name: str) -> None:
    schema = json.loads((Path(__file__).parents[1] / "schemas/sarif-schema-2.1.0.json").read_text())
    report = report_for(name)
    document = json.loads(render_audit(report, AuditFormat.SARIF))
    jsonschema.Draft7Validator(schema).validate(document)
    run = document["runs"][0]
    failing = {r.check for r in report.results if r.status.value in ("fail", "waived", "error")}
    assert {r["ruleId"] for r in run["results"]} == failing
    for result in run["results"]:
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_locations_and_suppressions() -> None:
    document = json.loads(render_audit(report_for("weak-rocky9"), AuditFormat.SARIF))
    results = {r["ruleId"]: r for r in document["runs"][0]["results"]}
    location = results["ssh-password-auth"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "etc/ssh/sshd_config", "uriBaseId": "IMAGEROOT"}
    assert location["region"] == {"startLine": 4}
    assert results["ssh-root-login"]["suppressions"][0]["justification"] == "r"


def test_sarif_rejects_a_broken_document() -> None:
    schema = json.loads((Path(__file__).parents[1] / "schemas/sarif-schema-2.1.0.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate({"version": "2.1.0", "runs": [{"results": []}]})


@pytest.mark.parametrize("name", CASES)
def test_junit_one_testcase_per_check(name: str) -> None:
    report = report_for(name)
    root = ET.fromstring(render_audit(report, AuditFormat.JUNIT))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(report.results) == int(suite.get("tests", "0"))
    summary = report.summary()
    assert len(suite.findall("testcase/failure")) == summary["fail"] == int(suite.get("failures", "0"))
    assert len(suite.findall("testcase/error")) == summary["error"]
    assert len(suite.findall("testcase/skipped")) == summary["skip"] + summary["waived"]


def test_table_groups_by_status_and_shows_fixes() -> None:
    text = render_audit(report_for("weak-rocky9"), AuditFormat.TABLE)
    assert text.index("FAIL (") < text.index("WAIVED (") < text.index("PASS (")
    assert "fix ssh-password-auth" in text and "PasswordAuthentication no" in text
    assert "\x1b[" not in text  # no colour codes unless asked
    assert "\x1b[" in render_audit(report_for("weak-rocky9"), AuditFormat.TABLE, color=True)
