"""The audit table a person reads: at 80, 100 and 200 columns, and in a pipe without COLUMNS (then 80,
Rich's width for a console that is not a terminal), every evidence word of every failing result is shown
whole and no line is longer than the width, unless it is one token (a path, an id, a shell word)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shlex
from typing import Any

import pytest

from imagevet.audit import run_audit, select_checks
from imagevet.checks.base import CheckOptions
from imagevet.model import Evidence, Status
from imagevet.report import audit
from imagevet.report.text import safe
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.support.cli import run_imagevet

AS_OF = dt.date(2026, 11, 28)
ROOTS = ("weak-rocky9", "default-passwords", "alpine-container")
LONG_PATH = "/opt/vendor/" + "a-directory-with-a-long-name/" * 5 + "agent.conf"


def words_of(result: dict[str, Any]) -> list[str]:
    """What the reader must find whole: each word of the detail and the file it came from."""
    words = []
    for item in result["evidence"]:
        evidence = Evidence(**item)
        words += safe(evidence.detail).split() + ([safe(evidence.where)] if evidence.where else [])
    return words


def one_token(line: str) -> bool:
    text = line.strip().removesuffix("\\").strip()
    if len(text.split()) == 1:
        return True
    try:
        return len(shlex.split(text)) == 1  # a shell word of a fix, quoted spaces and all
    except ValueError:
        return False


def assert_readable(text: str, document: dict[str, Any], width: int) -> None:
    lines = text.splitlines()
    too_long = [line for line in lines if len(line) > width and not one_token(line)]
    assert not too_long, f"lines longer than {width}: {too_long}"
    shown = {word for line in lines for word in line.split()}
    for result in document["results"]:
        if result["status"] in ("fail", "error"):
            missing = [w for w in words_of(result) if w not in shown]
            assert not missing, f"{result['check']}: cut or missing {missing}"
            assert result["check"] in shown


def document_of(name: str) -> dict[str, Any]:
    target = RootfsTarget(str(FIXTURES / "rootfs" / name))
    return audit.document(run_audit(target, CheckOptions(AS_OF), select_checks(None, "all")))


@pytest.mark.parametrize("width", [80, 100, 200])
@pytest.mark.parametrize("name", ROOTS)
def test_every_evidence_word_is_whole_at_the_width(name: str, width: int) -> None:
    document = document_of(name)
    assert any(r["status"] == "fail" for r in document["results"])
    assert_readable(audit.render(document, audit.Format.TABLE, width=width), document, width)


def test_a_token_longer_than_the_width_stays_whole_on_its_own_line() -> None:
    target = RootfsTarget(str(FIXTURES / "rootfs" / "weak-rocky9"))
    report = run_audit(target, CheckOptions(AS_OF), ["ssh-root-login"])
    hostile = dataclasses.replace(
        report.results[0],
        evidence=(Evidence(f"agent reads {LONG_PATH} at start \x1b]0;owned\x07 \u202eevil", LONG_PATH, 12),),
    )
    document = audit.document(dataclasses.replace(report, results=(hostile,)))
    text = audit.render(document, audit.Format.TABLE, width=80)
    assert f"      {LONG_PATH}" in text.splitlines()  # alone, never folded
    assert f"{LONG_PATH}:12" in text
    assert "\x1b" not in text and "\u202e" not in text and "\\x1b]0;owned\\x07" in text  # safe() kept
    assert_readable(text, document, 80)


def test_results_are_stacked_with_id_status_and_severity_first() -> None:
    document = document_of("weak-rocky9")
    text = audit.render(document, audit.Format.TABLE, width=80)
    lines = text.splitlines()
    head = lines.index("FAIL (" + str(sum(r["status"] == "fail" for r in document["results"])) + ")")
    assert lines[head + 1].split() == ["fail", "critical", "accounts-empty-password"]
    assert lines[head + 2] == "    No account has an empty password"
    assert lines[head + 3].startswith("      account guest has an empty password field")
    gate = lines[
        next(i for i, line in enumerate(lines) if line.startswith("gate: FAILED (--fail-on high): ")) :
    ]
    assert set(document["gate"]["failed"]) <= set(re.split(r"[\s,;]+", " ".join(gate)))


def env_for(columns: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    return env


@pytest.mark.parametrize(("columns", "width"), [("80", 80), ("100", 100), ("200", 200), (None, 80)])
def test_the_cli_lays_out_for_columns_and_a_pipe(columns: str | None, width: int) -> None:
    root = str(FIXTURES / "rootfs" / "weak-rocky9")
    args = ("audit", root, f"--as-of={AS_OF}", "--profile", "all")
    table = run_imagevet(*args, env=env_for(columns))
    data = json.loads(run_imagevet(*args, "-f", "json", env=env_for(columns)).stdout)
    assert table.returncode == 1
    assert_readable(table.stdout, data, width)
    longest = max(len(line) for line in table.stdout.splitlines() if not one_token(line))
    assert longest <= width and (width == 200 or longest > width - 20)  # the width is used, not 120
    failing = [r for r in data["results"] if r["status"] is not Status.PASS.value]
    assert failing
