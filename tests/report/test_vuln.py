"""The vuln report from a real scan's document: SARIF valid against the OASIS schema (filtered too), the
gate in the document, and a table whose ids and versions are never cut, at any width."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from imagevet.report import vuln
from tests.conftest import FIXTURES
from tests.support.advisories import import_records
from tests.support.cli import run_imagevet

HARDENED = str(FIXTURES / "rootfs" / "hardened-debian")
SARIF_SCHEMA = Path(__file__).parents[1] / "schemas" / "sarif-schema-2.1.0.json"
LONG_VERSION = "1:2.36.0~really2.35+dfsg-9+deb12u14~bpo11+1.0ubuntu0.22.04.3+esm1~security.backport"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("vuln-report") / "osv.sqlite3"
    import_records(path)
    yield path


def scan(database: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "IMAGEVET_DB": str(database)}
    proc = run_imagevet("vuln", HARDENED, "--as-of=2026-11-28", "-f", "json", *args, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    document: dict[str, Any] = json.loads(proc.stdout)
    return document


def with_long_findings(document: dict[str, Any]) -> dict[str, Any]:
    """The scan's document with findings whose fields are longer than a column at 80 characters."""
    longer = copy.deepcopy(document)
    base = longer["findings"][0]
    for i, severity in enumerate(("critical", "medium", "unknown")):
        finding = {**base, "id": f"DEBIAN-CVE-2026-{4000 + i}-EXTENDED-IDENTIFIER", "severity": severity}
        finding.update(package="libgnutls-openssl-compat27", installed=LONG_VERSION, fixed=LONG_VERSION + "1")
        finding["aliases"] = ["CVE-2026-4000", "GHSA-abcd-efgh-ijkl", "USN-9999-1", "DSA-5999-1", "RHSA-1"]
        longer["findings"].append(finding)
    return longer


def test_the_sarif_is_valid_and_levels_come_from_the_scale(database: Path) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    document = with_long_findings(scan(database))
    log = json.loads(vuln.render(document, vuln.Format.SARIF))
    jsonschema.Draft7Validator(schema).validate(log)
    run = log["runs"][0]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["defaultConfiguration"]["level"] == levels[rule["id"]]
    by_severity = {f["severity"]: levels[f["id"]] for f in document["findings"]}
    assert by_severity == {"high": "error", "critical": "error", "medium": "warning", "unknown": "note"}
    assert "properties" not in run


def log_text(log: dict[str, Any]) -> str:
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    return "\n".join(n["message"]["text"] for n in notes)


def test_a_filtered_sarif_says_what_it_hides(database: Path) -> None:
    schema = json.loads(SARIF_SCHEMA.read_text())
    log = json.loads(vuln.render(scan(database, "--severity", "critical"), vuln.Format.SARIF))
    jsonschema.Draft7Validator(schema).validate(log)
    run = log["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    assert run["properties"] == {"severityFilter": ["critical"], "hiddenResults": 1}
    assert "failing the gate among them: DEBIAN-CVE-2026-3333" in log_text(log)


def test_the_gate_is_judged_on_every_finding_whatever_is_shown(database: Path) -> None:
    everything, critical = scan(database), scan(database, "--severity", "CRITICAL")
    assert everything["findings"] and not critical["findings"]
    assert critical["summary"] == everything["summary"]
    assert critical["filter"] == {"severity": ["critical"], "hidden": 1, "failing": ["DEBIAN-CVE-2026-3333"]}
    assert "filter" not in everything
    assert scan(database, "--severity", "critical", "--fail-on", "never")["filter"]["failing"] == []


@pytest.mark.parametrize("width", [80, 100, 200])
def test_ids_and_versions_are_never_cut(database: Path, width: int) -> None:
    document = with_long_findings(scan(database))
    text = vuln.render(document, vuln.Format.TABLE, width=width)
    lines = text.splitlines()
    assert all(len(line) <= width or len(line.split()) == 1 for line in lines), text
    shown = {word.strip(",") for line in lines for word in line.split()}
    for finding in document["findings"]:
        assert {finding["id"], finding["installed"], finding["package"]} <= shown
        assert finding["fixed"] is None or finding["fixed"] in shown


def test_wide_enough_it_is_one_row_per_finding(database: Path) -> None:
    document = scan(database)
    rows = vuln.render(document, vuln.Format.TABLE, width=200).splitlines()
    header = next(line for line in rows if line.split()[:2] == ["severity", "id"])
    assert header.split() == ["severity", "id", "package", "installed", "fixed", "aliases"]
    finding = document["findings"][0]
    row = next(line for line in rows if finding["id"] in line)
    assert row.split()[:2] == ["high", finding["id"]]
    assert f"{finding['package']} ({finding['source']})" in row and finding["installed"] in row
    narrow = vuln.render(with_long_findings(document), vuln.Format.TABLE, width=80).splitlines()
    assert not any(line.split()[:2] == ["severity", "id"] for line in narrow if line.strip())


def test_text_from_the_image_is_escaped_and_colour_is_only_asked_for(database: Path) -> None:
    document = scan(database)
    document["findings"][0]["installed"] = "2.36\x1b[2J\u202e-9"
    plain = vuln.render(document, vuln.Format.TABLE, width=200)
    assert "\x1b" not in plain and "\u202e" not in plain and "2.36\\x1b[2J\\u202e-9" in plain
    coloured = vuln.render(document, vuln.Format.TABLE, width=200, color=True)
    assert "\x1b[" in coloured and "\x1b[2J" not in coloured
