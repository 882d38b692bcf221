"""--severity through the CLI, as a CI job runs it: it filters what every format shows, never the gate
(the exit code and the gate line are of every result, and a hidden result that trips the gate is still
named); a report that hides results says so; a bad value is exit 2 with one line."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import FIXTURES
from tests.support.advisories import import_records
from tests.support.cli import run_imagevet

WEAK = str(FIXTURES / "rootfs" / "weak-rocky9")
HARDENED = str(FIXTURES / "rootfs" / "hardened-debian")
AS_OF = "--as-of=2026-11-28"
SARIF_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text())


def flat(text: str) -> str:
    """The text with its line breaks and indents as single spaces (the table wraps at 80)."""
    return " ".join(text.split())


def audit(*args: str) -> Any:
    return run_imagevet("audit", WEAK, AS_OF, *args, env={**os.environ, "NO_COLOR": "1", "COLUMNS": "80"})


@pytest.fixture(scope="module")
def unfiltered() -> dict[str, Any]:
    proc = audit("-f", "json")
    assert proc.returncode == 1
    document: dict[str, Any] = json.loads(proc.stdout)
    return document


def test_json_lists_only_the_severities_asked_and_keeps_the_gate(unfiltered: dict[str, Any]) -> None:
    proc = audit("-f", "json", "--severity", "Critical")
    assert proc.returncode == 1
    document = json.loads(proc.stdout)
    critical = [r for r in unfiltered["results"] if r["severity"] == "critical"]
    assert document["results"] == critical
    checks = {r["check"] for r in critical}
    tripping = [c for c in unfiltered["gate"]["failed"] + unfiltered["gate"]["undecided"] if c not in checks]
    assert document["filter"] == {
        "severity": ["critical"],
        "hidden": len(unfiltered["results"]) - len(critical),
        "failing": tripping,
    }
    assert document["gate"] == unfiltered["gate"] and document["summary"] == unfiltered["summary"]
    assert "ssh-root-login" in document["gate"]["failed"]  # high: hidden, and still tripping the gate
    schema = json.loads((Path(__file__).parents[1] / "docs/schemas/audit-v1.schema.json").read_text())
    jsonschema.validate(document, schema)


def test_the_table_says_what_it_hides_and_names_the_hidden_gate_failure(unfiltered: dict[str, Any]) -> None:
    proc = audit("--severity", "critical")
    assert proc.returncode == 1
    hidden = sum(1 for r in unfiltered["results"] if r["severity"] != "critical")
    line = f"{hidden} results are outside --severity critical and not shown; failing the gate among them:"
    assert line in flat(proc.stdout)
    assert "\n  fail    critical  accounts-empty-password\n" in proc.stdout
    assert "ssh-password-auth\n" not in proc.stdout.split("gate:")[0]  # not listed ...
    gate = proc.stdout[proc.stdout.index("gate: FAILED") :]
    assert "ssh-password-auth" in gate and "ssh-root-login" in gate  # ... but named by the gate
    assert f"summary: {unfiltered['summary']['fail']} fail" in proc.stdout


def test_sarif_and_junit_show_the_filtered_results_and_say_so(unfiltered: dict[str, Any]) -> None:
    proc = audit("-f", "sarif", "--severity", "critical,low")
    assert proc.returncode == 1
    log = json.loads(proc.stdout)
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(log)
    run = log["runs"][0]
    shown = {r["check"] for r in unfiltered["results"] if r["severity"] in ("critical", "low")}
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == shown
    assert {r["ruleId"] for r in run["results"]} <= shown
    assert run["properties"]["severityFilter"] == ["low", "critical"]
    assert run["properties"]["hiddenResults"] == len(unfiltered["results"]) - len(shown)

    proc = audit("-f", "junit", "--severity", "critical,low")
    assert proc.returncode == 1
    suite = ET.fromstring(proc.stdout).find("testsuite")
    assert suite is not None
    assert {c.get("name", "").split(":")[0] for c in suite.findall("testcase")} == shown
    assert int(suite.get("tests", "0")) == len(shown)
    properties = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert properties == {
        "imagevet.severity": "low,critical",
        "imagevet.hidden": str(run["properties"]["hiddenResults"]),
    }


def test_the_html_page_says_what_it_hides() -> None:
    proc = audit("-f", "html", "--severity", "critical")
    assert proc.returncode == 1
    assert "results are outside --severity critical and not shown" in proc.stdout


def test_a_filter_that_hides_every_failure_does_not_pass_the_gate() -> None:
    proc = audit("--severity", "info")
    assert proc.returncode == 1 and "gate: FAILED (--fail-on high)" in proc.stdout
    assert audit("--severity", "info", "--fail-on", "never").returncode == 0


@pytest.mark.parametrize("value", ["crit", "high,severe", ","])
@pytest.mark.parametrize("command", ["audit", "vuln"])
def test_a_bad_value_is_one_line_and_exit_2(command: str, value: str) -> None:
    proc = run_imagevet(command, HARDENED, AS_OF, "--severity", value)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--severity" in lines[0] and "info, low, medium, high, critical" in lines[0]
    if value != ",":
        assert repr(next(p for p in value.split(",") if p != "high")) in lines[0]


def test_inventory_refuses_the_filter(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(f"{WEAK}\n")
    proc = run_imagevet("audit", "--inventory", str(hosts), "--severity", "high")
    assert proc.returncode == 2 and "--severity" in proc.stderr


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("severity") / "osv.sqlite3"
    import_records(path)
    yield path


def vuln(database: Path, *args: str) -> Any:
    env = {**os.environ, "IMAGEVET_DB": str(database), "NO_COLOR": "1", "COLUMNS": "80"}
    return run_imagevet("vuln", HARDENED, AS_OF, *args, env=env)


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "html"])
def test_vuln_hides_the_finding_and_still_fails_on_it(database: Path, fmt: str) -> None:
    shown = vuln(database, "-f", fmt, "--severity", "critical")
    everything = vuln(database, "-f", fmt)
    assert shown.returncode == everything.returncode == 1
    assert "DEBIAN-CVE-2026-3333" in everything.stdout
    if fmt == "table":
        line = "1 result is outside --severity critical and not shown; failing the gate among them:"
        assert f"{line} DEBIAN-CVE-2026-3333" in flat(shown.stdout)
    elif fmt == "json":
        document = json.loads(shown.stdout)
        assert document["findings"] == []
        assert document["filter"] == {
            "severity": ["critical"],
            "hidden": 1,
            "failing": ["DEBIAN-CVE-2026-3333"],
        }
        assert document["summary"] == json.loads(everything.stdout)["summary"]
    elif fmt == "sarif":
        run = json.loads(shown.stdout)["runs"][0]
        assert run["results"] == [] and run["properties"]["hiddenResults"] == 1
    else:
        assert "1 result is outside --severity critical and not shown" in shown.stdout


def test_vuln_below_the_gate_passes_whatever_is_shown(database: Path) -> None:
    assert vuln(database, "--severity", "high", "--fail-on", "critical").returncode == 0
    assert vuln(database, "--severity", "low", "--fail-on", "high").returncode == 1
