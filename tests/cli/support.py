"""What the tests of the settings file share: run imagevet in a folder (the settings file's working
directory) with a clean environment, and read its one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import imagevet_env, run_imagevet


def run_in(folder: Path, *args: str, timeout: float = 60, **env: str) -> tuple[int, str, str]:
    """imagevet ARGS in ``folder``, without this machine's IMAGEVET_* variables (plus ``env``)."""
    proc = run_imagevet(*args, env=imagevet_env(**env), cwd=folder, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def one_line_error(stderr: str) -> str:
    """The one ``imagevet: error:`` line stderr must be, never a traceback."""
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1 and lines[0].startswith("imagevet: error: "), stderr
    return lines[0]
