"""Shared by the benchmark scripts: run a command as a user would and measure it."""

from __future__ import annotations

import os
import subprocess
import time


def timed(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB of that process alone, exit code); output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)
