"""tests/support/cli.py is the one way the tests start the CLI: run_imagevet, or IMAGEVET for the few that
need Popen or preexec_fn, with imagevet_env for the environment. No test file spells the command itself,
but the ones below, not migrated yet (other work was changing them): a known list that only shrinks."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import AS_OF, AS_OF_DATE, AS_OF_DAY, PROJECT
from tests.support.cli import IMAGEVET, imagevet_env, run_imagevet

TESTS = PROJECT / "tests"
SPELLED = re.compile(r"""(["'])-m\1\s*,\s*(["'])imagevet\2""")  # [sys.executable, "-m", "imagevet", ...]
THE_ONE_PLACE = "tests/support/cli.py"
THIS_FILE = "tests/test_support_cli.py"  # spells it only as examples of what the pattern sees
# Not migrated yet: remove a file from here once it uses tests/support/cli.py (the test below insists).
NOT_YET_MIGRATED = frozenset(
    {
        "tests/report/test_sbom.py",
        "tests/service/test_push.py",
        "tests/service/test_queue.py",
        "tests/test_cli.py",
        "tests/test_compliance.py",
        "tests/test_docs_examples.py",
    }
)


def _spelling_it() -> dict[str, list[int]]:
    """Each test file that spells the command itself, with the line numbers where it does."""
    found: dict[str, list[int]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = [text.count("\n", 0, match.start()) + 1 for match in SPELLED.finditer(text)]
        if lines:
            found[path.relative_to(PROJECT).as_posix()] = lines
    return found


def test_no_test_file_spells_the_command_itself() -> None:
    found = _spelling_it()
    assert found.get(THE_ONE_PLACE), "tests/support/cli.py no longer spells the command: update this test"
    allowed = NOT_YET_MIGRATED | {THE_ONE_PLACE, THIS_FILE}
    offenders = {name: lines for name, lines in found.items() if name not in allowed}
    assert offenders == {}, (
        "start the CLI through tests/support/cli.py (run_imagevet, or [*IMAGEVET, ...] for Popen): "
        + ", ".join(f"{name}:{line}" for name, lines in offenders.items() for line in lines)
    )


def test_the_not_yet_migrated_list_only_shrinks() -> None:
    found = _spelling_it()
    done = sorted(name for name in NOT_YET_MIGRATED if name not in found)
    assert done == [], f"migrated (or gone): remove from NOT_YET_MIGRATED in {__file__}: {done}"


def test_the_pattern_sees_both_quotes_and_any_spacing() -> None:
    assert SPELLED.search('[sys.executable, "-m", "imagevet", *args]')
    assert SPELLED.search("[sys.executable, '-m','imagevet']")
    assert not SPELLED.search('["python", "-m", "pytest"]')


def test_the_command_is_this_interpreter_running_the_package() -> None:
    assert [sys.executable, "-m", "imagevet"] == IMAGEVET


def test_imagevet_env_drops_the_prefixes_named_keeps_the_ones_kept_and_adds_no_color() -> None:
    base = {
        "PATH": "/bin",
        "IMAGEVET_FORMAT": "json",
        "IMAGEVET_DATA_DIR": "/data",
        "AWS_PROFILE": "prod",
        "NO_COLOR": "",
    }
    assert imagevet_env(base) == {
        "PATH": "/bin",
        "IMAGEVET_DATA_DIR": "/data",
        "AWS_PROFILE": "prod",
        "NO_COLOR": "1",
    }
    assert imagevet_env(base, drop=()) == {**base, "NO_COLOR": "1"}
    assert imagevet_env(base, drop=("AWS_", "IMAGEVET_"), keep=(), TMPDIR="/t") == {
        "PATH": "/bin",
        "NO_COLOR": "1",
        "TMPDIR": "/t",
    }
    assert imagevet_env(base, drop=(), NO_COLOR="0")["NO_COLOR"] == "0"  # the extras come last
    assert base["NO_COLOR"] == ""  # a copy: the base is left as it was


def test_imagevet_env_reads_the_environment_when_it_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEVET_DB", "/x.sqlite3")
    assert imagevet_env(drop=())["IMAGEVET_DB"] == "/x.sqlite3"
    assert "IMAGEVET_DB" not in imagevet_env()
    assert imagevet_env()["IMAGEVET_DATA_DIR"] == os.environ["IMAGEVET_DATA_DIR"]  # tests/conftest.py's


def test_run_imagevet_runs_the_cli_with_the_environment_given(tmp_path: Path) -> None:
    proc = run_imagevet("lifecycle", "ubuntu-24.04", AS_OF, "-f", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["as_of"] == AS_OF_DATE
    (tmp_path / "lifecycle-overrides.yaml").write_text("ZQ: 1\nreleases: {}\n")
    refused = run_imagevet("lifecycle", env=imagevet_env(IMAGEVET_DATA_DIR=str(tmp_path)))
    assert refused.returncode == 2 and str(tmp_path / "lifecycle-overrides.yaml") in refused.stderr


def test_one_as_of_date_in_three_forms() -> None:
    assert AS_OF_DAY.isoformat() == AS_OF_DATE == "2026-11-28"
    assert AS_OF == "--as-of=2026-11-28"
