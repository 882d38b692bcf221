"""Shared by the benchmark scripts: run a command as a user would and measure it."""

from __future__ import annotations

import compileall
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

TIME = Path("/usr/bin/time")  # GNU time (Debian's `time` package)


def timed(
    command: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB of that process alone, exit code); output discarded.

    The peak comes from GNU time when it is installed: Linux carries a process's memory high-water mark
    across ``exec``, so a child forked from this Python (about 19 MB) could never report less than that
    (``os.wait4`` gave 19.4 MB for ``python -c pass``, which needs 8.7 MB). GNU time is a small C
    program, so what its child reports is the command's own. Without it, ``os.wait4`` of the child."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        wrapped = [str(TIME), "-q", "-f", "%M", "-o", report.name, *command] if TIME.is_file() else command
        start = time.perf_counter()
        proc = subprocess.Popen(
            wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        said = report.read().split()
    peak_kib = int(said[-1]) if wrapped is not command and said and said[-1].isdigit() else usage.ru_maxrss
    return wall, peak_kib / 1024, os.waitstatus_to_exitcode(status)


def imagevet_command() -> list[str]:
    """The `imagevet` a user of this venv runs: its console script, else ``python -m imagevet``. The
    interpreter is this one, so the floors measured with sys.executable are those of the same Python."""
    script = Path(sys.executable).with_name("imagevet")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "imagevet"]


def compile_imagevet() -> Path:
    """Byte-compile the imagevet package the child processes will import, and return its folder.

    pip byte-compiles an installed tool; a source checkout run with PYTHONDONTWRITEBYTECODE=1 (as these
    machines are) never gets .pyc files, so every run would compile all of imagevet again and the timings
    would be those of no real installation. py_compile writes regardless of that variable, and the .pyc
    files are checked against the sources' mtimes, so an edit afterwards is still seen."""
    spec = importlib.util.find_spec("imagevet")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("imagevet is not importable from this interpreter (set PYTHONPATH=src)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not compileall.compile_dir(folder, quiet=1):
        raise SystemExit(f"byte-compiling {folder} failed")
    return folder


def quiet_environment(folder: Path) -> dict[str, str]:
    """This environment with imagevet's machine state pointed into ``folder`` (an empty folder): no advisory
    database, no data folder (the built-in catalog), no settings file, so every run decides the same way
    whatever the user running the benchmark has installed."""
    env = {**os.environ, "IMAGEVET_DB": str(folder / "no-such.sqlite3"), "IMAGEVET_DATA_DIR": str(folder)}
    env.pop("IMAGEVET_CONFIG", None)
    return env


def checked_run(command: list[str], env: Mapping[str, str], cwd: Path, exits: tuple[int, ...]) -> None:
    """Run ``command`` once (unmeasured: it warms the page cache) and stop the benchmark if it did not run
    as the measured runs should: a timing of a crash would otherwise be reported as a speed."""
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode not in exits or "Traceback" in proc.stderr:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr[-400:]}")
