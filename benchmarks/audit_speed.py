"""Wall time and peak memory of `imagevet audit` on a root filesystem, as a user runs it.

Each run is a fresh process (interpreter start-up and imports included), measured with os.wait4 so the
peak RSS is that child's own. Usage:

    python benchmarks/audit_speed.py [ROOT] [--runs N] [--format json|table|sarif|junit]

ROOT defaults to the cached debootstrap root the tests build (tests/support/debian_root.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def default_root() -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.debian_root import ensure_debian_root

    return ensure_debian_root()


def one_run(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MiB, exit code) of one run of ``command``."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--format", default="json")
    args = parser.parse_args()
    root = args.root or default_root()
    imagevet = shutil.which("imagevet") or str(Path(sys.executable).with_name("imagevet"))
    command = [imagevet, "audit", str(root), "--format", args.format, "--fail-on", "never"]
    one_run(command)  # warm the page cache, as a CI runner auditing a fresh build would have it
    walls, peaks = [], []
    for _ in range(args.runs):
        wall, peak, code = one_run(command)
        if code != 0:
            print(f"imagevet exited {code}", file=sys.stderr)
            return 1
        walls.append(wall)
        peaks.append(peak)
    print(f"command: {' '.join(command)}")
    print(
        f"imagevet audit runs={args.runs} wall_s median={statistics.median(walls):.3f} "
        f"min={min(walls):.3f} max={max(walls):.3f} peak_rss_mb max={max(peaks):.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
