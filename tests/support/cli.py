"""Run the imagevet CLI as a user does: a fresh interpreter, output captured. The one way tests start it.

- ``run_imagevet(*args)``: run it to the end and capture what it printed (the usual case).
- ``IMAGEVET``: the command itself, for the few tests that must hold the process (``Popen``: signals,
  a server, a long import) or change how it starts (``preexec_fn``: a umask): ``[*IMAGEVET, *args]``.
- ``imagevet_env()``: an environment for it: a copy of this one without variables it would read as the
  user's own settings, with NO_COLOR=1 and the extras given.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

IMAGEVET: list[str] = [sys.executable, "-m", "imagevet"]


def imagevet_env(
    base: Mapping[str, str] | None = None,
    /,
    *,
    drop: tuple[str, ...] = ("IMAGEVET_",),
    keep: tuple[str, ...] = ("IMAGEVET_DATA_DIR",),
    **extra: str,
) -> dict[str, str]:
    """A copy of ``base`` (the current environment when None) without the variables whose names start
    with one of ``drop`` (except those named in ``keep``), then NO_COLOR=1, then ``extra``.

    By default the user's IMAGEVET_* settings are dropped and the tests' own data directory (set by
    tests/conftest.py) is kept; ``drop=()`` keeps everything, ``drop=("AWS_", "IMAGEVET_")`` also keeps
    boto3 from finding this machine's credentials."""
    source = os.environ if base is None else base
    kept = {name: value for name, value in source.items() if name in keep or not name.startswith(drop)}
    return {**kept, "NO_COLOR": "1", **extra}


def run_imagevet(
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m imagevet ARGS`` with the current environment as it is (or ``env``), in ``cwd``; stdout
    and stderr captured as text."""
    return subprocess.run(
        [*IMAGEVET, *args],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else dict(os.environ),
        timeout=timeout,
        cwd=cwd,
    )
