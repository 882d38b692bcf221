"""Libraries' warnings never reach the terminal, and a run that does not need ``logging`` does not import
it (quietlog.py). Each case is a fresh interpreter, since the point is what happens on first import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.cli import IMAGEVET, imagevet_env

WARN = "import logging, logging.config; logging.getLogger('botocore').warning('EVIL-LOG-LINE')"


@pytest.mark.parametrize("logging_first", [False, True])
def test_a_library_warning_prints_nothing(logging_first: bool) -> None:
    before = "import logging; " if logging_first else ""
    code = f"{before}from imagevet.quietlog import quiet_library_logging; quiet_library_logging(); {WARN}"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_without_it_the_same_warning_prints() -> None:
    """The control: the case above can fail."""
    proc = subprocess.run([sys.executable, "-c", WARN], capture_output=True, text=True, timeout=60)
    assert "EVIL-LOG-LINE" in proc.stderr


def test_the_handler_is_added_once_and_the_finder_leaves() -> None:
    code = (
        "import sys; from imagevet.quietlog import quiet_library_logging, _WhenLoggingArrives as F; "
        "quiet_library_logging(); quiet_library_logging(); assert sys.meta_path.count(F) == 1; "
        "import logging; assert F not in sys.meta_path; print(len(logging.getLogger().handlers))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "1", proc.stderr


def test_recommend_does_not_import_logging() -> None:
    proc = subprocess.run(
        [*IMAGEVET, "recommend", "--scenario", "web-api", "--cloud", "aws", "--format", "json"],
        capture_output=True, text=True, timeout=120, env={**imagevet_env(), "PYTHONPROFILEIMPORTTIME": "1"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "import time" in line}
    assert "imagevet.catalog.store" in imported and "logging" not in imported
