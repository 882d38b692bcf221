"""Run the imagevet CLI as a user does: a fresh interpreter, output captured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_imagevet(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m imagevet ARGS`` with the current environment (or ``env``), in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "imagevet", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else dict(os.environ),
        timeout=timeout,
        cwd=cwd,
    )
