"""`imagevet compliance`: controls met / not met / manual with coverage, never counted as met by default."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.cis import level1_server
from imagevet.compliance import MANUAL, MET, NOT_MET, assess, framework, frameworks
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES

AS_OF = dt.date(2026, 11, 28)


@pytest.mark.parametrize("key", ["cis-l1", "mlps-l3", "pci-dss"])
def test_frameworks_judge_every_control(key: str) -> None:
    frame = framework(key)
    report = run_audit(
        RootfsTarget(str(FIXTURES / "rootfs/weak-rocky9")), CheckOptions(AS_OF), frame.check_ids()
    )
    judged, coverage = assess(frame, report)
    assert len(judged) == coverage["controls"] == len(frame.controls)
    assert coverage["manual"] == sum(1 for c in frame.controls if not c.checks) > 0
    for result in judged:
        if not result.control.checks:
            assert result.status == MANUAL  # people and processes: never silently met
        elif result.status == MET:
            assert all(r.status.value in ("pass", "skip") for r in result.results)
    assert coverage["not-met"] > 0  # the weak image fails something in every framework


def test_control_fails_when_any_check_fails() -> None:
    frame = framework("pci-dss")
    report = run_audit(
        RootfsTarget(str(FIXTURES / "rootfs/weak-rocky9")), CheckOptions(AS_OF), frame.check_ids()
    )
    judged = {j.control.id: j for j in assess(frame, report)[0]}
    assert judged["8.3.1"].status == NOT_MET  # guest has an empty password and root may log in


def test_cli_json_and_html(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "imagevet",
            "compliance",
            str(FIXTURES / "rootfs/hardened-debian"),
            "--framework",
            "mlps-l3",
            "-f",
            "json",
            "--as-of",
            "2026-11-28",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    document = json.loads(proc.stdout)
    assert document["schema"] == "imagevet/compliance/v1" and document["framework"]["id"] == "mlps-l3"
    assert {"id", "title", "status", "checks"} <= set(document["controls"][0])
    assert document["coverage"]["automated"] + document["coverage"]["manual"] == len(document["controls"])
    assert proc.returncode == (1 if document["coverage"]["not-met"] else 0)
    page = tmp_path / "report.html"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "imagevet",
            "compliance",
            str(FIXTURES / "rootfs/hardened-debian"),
            "--framework",
            "cis-l1",
            "-f",
            "html",
            "-o",
            str(page),
        ],
        env=env,
        timeout=60,
    )
    HTMLParser().feed(page.read_text())
    assert page.read_text().count("<tr>") == len(level1_server("debian12")) + 1  # one row per recommendation
    bad = subprocess.run(
        [sys.executable, "-m", "imagevet", "compliance", str(FIXTURES), "--framework", "iso27001"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 2 and "choose from: cis-l1, mlps-l3, pci-dss" in bad.stderr


def test_framework_data_is_consistent() -> None:
    assert set(frameworks()) == {"cis-l1", "mlps-l3", "pci-dss"}
