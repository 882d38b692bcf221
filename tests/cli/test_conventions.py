"""Habits users bring from Trivy and Grype: -h everywhere, --quiet before or after the command, shell
completion, and usage messages in imagevet's words rather than the parsing library's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from imagevet.cli import app, plain
from imagevet.cli.settings import subcommands
from tests.conftest import AS_OF, FIXTURES
from tests.support.cli import IMAGEVET, run_imagevet

HARDENED = str(FIXTURES / "rootfs/hardened-debian")


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, child in sorted(subcommands(command).items()):
        found += _paths(child, (*prefix, name))
    return found


COMMAND_PATHS = _paths(typer.main.get_command(app))


def test_every_command_is_listed() -> None:
    assert len(COMMAND_PATHS) > 20 and ("db", "update") in COMMAND_PATHS


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=[" ".join(p) or "imagevet" for p in COMMAND_PATHS])
def test_dash_h_is_help_everywhere(path: tuple[str, ...]) -> None:
    proc = run_imagevet(*path, "-h")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: imagevet") and "-h, --help" in proc.stdout
    if path:  # every command has the shared options
        assert "-q, --quiet" in proc.stdout and "--config FILE" in proc.stdout


def _no_db_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "IMAGEVET_DB": str(tmp_path / "absent.sqlite3"), "NO_COLOR": "1"}


def test_quiet_silences_notices_before_or_after_the_command(tmp_path: Path) -> None:
    loud = run_imagevet("audit", HARDENED, AS_OF, env=_no_db_env(tmp_path))
    assert "could not be decided" in loud.stderr
    for args in (["-q", "audit", HARDENED, AS_OF], ["audit", HARDENED, AS_OF, "--quiet"]):
        quiet = run_imagevet(*args, env=_no_db_env(tmp_path))
        assert quiet.returncode == loud.returncode == 1
        assert quiet.stderr == "" and quiet.stdout == loud.stdout


def test_quiet_from_the_environment_and_the_settings_file(tmp_path: Path) -> None:
    env = {**_no_db_env(tmp_path), "IMAGEVET_QUIET": "true"}
    assert run_imagevet("audit", HARDENED, AS_OF, env=env).stderr == ""
    (tmp_path / "imagevet.yaml").write_text("quiet: true\n")
    proc = run_imagevet("audit", HARDENED, AS_OF, env=_no_db_env(tmp_path), cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr == ""


def test_quiet_never_silences_errors(tmp_path: Path) -> None:
    proc = run_imagevet("-q", "audit", str(tmp_path / "missing"))
    assert proc.returncode == 2 and proc.stderr.startswith("imagevet: error: ")


def test_install_completion_writes_a_script_that_completes(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    proc = run_imagevet("--install-completion", env=env)
    assert proc.returncode == 0, proc.stderr
    script = tmp_path / ".bash_completions" / "imagevet.sh"
    assert script.is_file() and f"source '{script}'" in (tmp_path / ".bashrc").read_text()
    assert "_IMAGEVET_COMPLETE" in script.read_text()
    # What bash runs when the user presses Tab after "imagevet audit --format ": the installed function,
    # which asks the imagevet on PATH (this venv's) for the candidates.
    bash = (
        f"source '{script}'; COMP_WORDS=(imagevet audit --format ''); COMP_CWORD=3; "
        "_imagevet_completion imagevet; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-c", bash], capture_output=True, text=True, env={**env, "PATH": path}, timeout=60
    )
    assert {"table", "json", "sarif", "junit", "html"} <= set(done.stdout.split()), done.stderr


@pytest.mark.parametrize(
    ("typer_says", "we_say"),
    [
        (
            "Invalid value for '--format' / '-f': Value error, 'xml' is not one of 'table', 'json'.",
            "--format: 'xml' is not one of 'table', 'json'",
        ),
        (
            "Invalid value for '--lifecycle-years': Input should be a valid number, unable to parse string "
            "as a number",
            "--lifecycle-years: not a number",
        ),
        (
            "Invalid value for '--concurrency': Input should be a valid integer, unable to parse string as "
            "an integer",
            "--concurrency: not a whole number",
        ),
        (
            "Invalid value for '--port': Input should be less than or equal to 65535",
            "--port: must be at most 65535",
        ),
        (
            "Invalid value for '--timeout': Input should be greater than or equal to 0.1",
            "--timeout: must be at least 0.1",
        ),
    ],
)
def test_messages_in_imagevets_words(typer_says: str, we_say: str) -> None:
    assert plain(typer_says) == we_say


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["audit", HARDENED, "--lifecycle-years", "abc"], "imagevet: error: --lifecycle-years: not a number"),
        (["audit", HARDENED, "-f", "xml"], "imagevet: error: --format: 'xml' is not one of"),
        (["serve", "--port", "99999"], "imagevet: error: --port: must be at most 65535"),
    ],
)
def test_real_usage_errors_have_no_library_words(args: list[str], expected: str) -> None:
    proc = run_imagevet(*args)
    assert proc.returncode == 2 and proc.stderr.startswith(expected), proc.stderr
    for internal in ("Input should", "Value error", "pydantic", "Traceback"):
        assert internal not in proc.stderr


def test_pipeline_init_refuses_stdout_as_a_directory(tmp_path: Path) -> None:
    proc = run_imagevet(
        "pipeline", "init", "--cloud", "aws", "--base", "ubuntu-24.04", "-o", "-", cwd=tmp_path
    )
    assert proc.returncode == 2 and "'-' (stdout) does not apply" in proc.stderr
    assert not (tmp_path / "-").exists()


TARGET_COMMANDS = ("audit", "compliance", "packages", "vuln", "harden", "attest")
FORMS = ("docker-archive:", "oci:", "tar:", "disk:", "qcow2", "VHDX", "ssh://", "ami:", "https://", "'/'")


@pytest.mark.parametrize("name", TARGET_COMMANDS)
def test_help_names_every_target_form(name: str) -> None:
    command = subcommands(typer.main.get_command(app))[name]
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    help_text = " ".join(str(getattr(p, "help", "") or "") for p in arguments)
    assert all(form in help_text for form in FORMS), help_text


def _stderr_on_a_terminal(*args: str) -> tuple[int, bytes]:
    """Run imagevet with stderr on a pseudo-terminal (as a person runs it) and return what it drew."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [*IMAGEVET, *args],
            stdout=subprocess.DEVNULL,
            stderr=slave,
            env={**os.environ, "TERM": "xterm", "COLUMNS": "100"},
            timeout=120,
        )
    finally:
        os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    return proc.returncode, drawn


def test_one_progress_line_on_a_terminal_and_none_with_quiet(tmp_path: Path) -> None:
    code, drawn = _stderr_on_a_terminal("db", "import", str(FIXTURES / "osv"), "--db", str(tmp_path / "a.db"))
    assert code == 0 and b"importing advisories" in drawn and b"imagevet: imported" in drawn, drawn
    code, drawn = _stderr_on_a_terminal(
        "db", "import", str(FIXTURES / "osv"), "--db", str(tmp_path / "b.db"), "-q"
    )
    assert code == 0 and drawn == b"", drawn
