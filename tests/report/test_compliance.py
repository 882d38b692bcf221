"""The compliance table from its document: every control id and check id whole at 80, 120 and 250
columns; columns when they fit, stacked when they do not; JSON and page from the same document."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.compliance import assess, framework
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
