"""The one assertion every hostile-input test makes, through the CLI as a user runs it.

``imagevet audit TARGET`` must exit 2 with exactly one line on stderr, ``imagevet: error: ...``, naming
the file it refuses and the problem, without a traceback, without echoing bytes of the hostile input, and
without any report on stdout (nothing passed, no "0 packages").
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.cli import run_imagevet

# Put into names and JSON values of hostile inputs: a refusal message must never contain it.
MARK = "EVIL\x1b[31m"
MARK_BYTES = MARK.encode()


def assert_refused(
    spec: str,
    names: Path | str,
    problem: str = "",
    env: dict[str, str] | None = None,
    within: float = 60,
) -> str:
    """Run ``imagevet audit spec`` and check the refusal; returns the message line."""
    start = time.monotonic()
    proc = run_imagevet("audit", spec, env=env, timeout=within)
    elapsed = time.monotonic() - start
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    line = lines[0]
    assert line.startswith("imagevet: error: "), line
    assert str(names) in line, line
    assert problem in line, line
    assert "EVIL" not in line and "\x1b" not in line, line
    assert "Traceback" not in proc.stderr
    assert proc.stdout == "", proc.stdout[:500]
    assert elapsed < within
    return line
