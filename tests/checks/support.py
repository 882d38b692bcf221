"""What the check tests share: the audit date, the fixture roots, and running checks on a root."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from imagevet.audit import run_audit, select_checks
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES

AS_OF = dt.date(2026, 11, 28)
ROOTFS = FIXTURES / "rootfs"


def statuses(root: Path, checks: list[str]) -> dict[str, Status]:
    """The status of each of ``checks`` on ``root``."""
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), checks)
    return {r.check: r.status for r in report.results}


def audit(root: Path, as_of: dt.date = AS_OF, years: float = 3.0) -> dict[str, Status]:
    """The checklist (the default profile) on ``root``."""
    report = run_audit(RootfsTarget(str(root)), CheckOptions(as_of, years), select_checks(None))
    return {r.check: r.status for r in report.results}
