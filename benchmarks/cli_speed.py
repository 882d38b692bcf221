"""Wall time and peak memory of an imagevet command, as a user runs it.

Each run is a fresh process (interpreter start-up and imports included), measured with os.wait4 so the
peak RSS is that child's own. Usage:

    python benchmarks/cli_speed.py [--runs N] [-- IMAGEVET ARGS...]

Without arguments it times `imagevet audit ROOT --format json --fail-on never` on the cached debootstrap
root the tests build (tests/support/debian_root.py). Exit codes 0 and 1 (findings) both count as runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

from _timing import timed


def default_root() -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.debian_root import ensure_debian_root

    return ensure_debian_root()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("args", nargs="*", help="imagevet arguments (after --)")
    args = parser.parse_args()
    imagevet = shutil.which("imagevet") or str(Path(sys.executable).with_name("imagevet"))
    tool_args = args.args or ["audit", str(default_root()), "--format", "json", "--fail-on", "never"]
    command = [imagevet, *tool_args]
    timed(command)  # warm the page cache, as a CI runner auditing a fresh build would have it
    walls, peaks = [], []
    for _ in range(args.runs):
        wall, peak, code = timed(command)
        if code not in (0, 1):
            print(f"imagevet exited {code}", file=sys.stderr)
            return 1
        walls.append(wall)
        peaks.append(peak)
    print(f"command: {' '.join(command)}")
    print(
        f"imagevet {tool_args[0]} runs={args.runs} wall_s median={statistics.median(walls):.3f} "
        f"min={min(walls):.3f} max={max(walls):.3f} peak_rss_mb max={max(peaks):.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
