"""Every registered check has at least one fixture case where it passes and one where it fails, and each
case gives the statuses it names (tests/checks/cases.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.registry import CHECKS
from imagevet.model import Status
from imagevet.vuln.coverage import Advisories, CoveragePolicy
from imagevet.vuln.db import thread_lookup
from tests.checks.cases import CASES, Case, opened
from tests.support.advisories import import_records


@pytest.fixture(scope="module")
def advisories(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Advisories]:
    """The fixture advisories, judged fresh against the real clock as the CLI does (cli/common.py)."""
    database = tmp_path_factory.mktemp("coverage") / "osv.sqlite3"
    import_records(database)
    yield Advisories.of_database(thread_lookup(database), CoveragePolicy(dt.datetime.now(dt.UTC)))


def test_every_check_has_a_passing_and_a_failing_case() -> None:
    covered = {(check, status) for case in CASES for check, status in case.expect.items()}
    missing = [
        f"{check}: no {status.value} case"
        for check in CHECKS
        for status in (Status.PASS, Status.FAIL)
        if (check, status) not in covered
    ]
    assert not missing, "\n".join(missing)
    assert {check for case in CASES for check in case.expect} <= set(CHECKS)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Case, tmp_path: Path, advisories: Advisories) -> None:
    options = CheckOptions(case.as_of, cloud=case.cloud, provenance=case.provenance)
    with opened(case, tmp_path) as target:
        report = run_audit(
            target, options, list(case.expect), advisories=advisories if case.advisories else None
        )
    got = {r.check: r.status for r in report.results}
    wrong = {
        check: (want.value, got[check].value, [str(e) for e in r.evidence])
        for check, want in case.expect.items()
        for r in report.results
        if r.check == check and got[check] is not want
    }
    assert not wrong
