"""Shared fixtures. In CI (CI=true) a skipped test fails the run: real components must really run."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = PROJECT.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# The one "today" of the tests that judge lifecycles: the catalog's dates are as they were on this day.
# One date in three forms: the day (CheckOptions, Query), its text ("--as-of", AS_OF_DATE), the option.
AS_OF_DAY = dt.date(2026, 11, 28)
AS_OF_DATE = AS_OF_DAY.isoformat()
AS_OF = f"--as-of={AS_OF_DATE}"

_skipped: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def isolated_user_data(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests (and the imagevet processes they start) never see this machine's own imagevet data."""
    os.environ["IMAGEVET_DATA_DIR"] = str(tmp_path_factory.mktemp("imagevet-data"))
    for name in ("IMAGEVET_DB", "IMAGEVET_EOL_URL", "IMAGEVET_OSV_URL"):
        os.environ.pop(name, None)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's shared sample data (../shared/data); absent on a user's machine."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared sample data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def copy_of(tmp_path: Path) -> Callable[[str], Path]:
    """A private copy of a fixture root under tests/fixtures/rootfs, for tests that change files in it."""

    def make(name: str) -> Path:
        root = tmp_path / f"{len(list(tmp_path.iterdir()))}" / name  # each copy its own
        shutil.copytree(FIXTURES / "rootfs" / name, root, symlinks=True)
        return root

    return make


@pytest.fixture(scope="session")
def debian_root() -> Path:
    """A real Debian 12 root built with debootstrap (cached outside the repository)."""
    from tests.support.debian_root import ensure_debian_root

    try:
        return ensure_debian_root()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot build the debootstrap root: {exc}")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if IN_CI and _skipped:
        terminalreporter.write_line(
            f"CI: {len(_skipped)} test(s) skipped; in CI every real component must run:", red=True
        )
        for nodeid in _skipped:
            terminalreporter.write_line(f"  {nodeid}", red=True)
