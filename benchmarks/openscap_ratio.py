"""imagevet's every-check audit against OpenSCAP's CIS Level 1 run on one root, timed alternately.

The machines are shared and noisy, so the two tools are timed turn about (imagevet, OpenSCAP, imagevet,
...) and only their ratio is the result (issue 19, item 5). Usage (as root: OpenSCAP scans a read-only bind
mount):

    python benchmarks/openscap_ratio.py [--runs N] [--root PATH]

Each OpenSCAP run is `benchmarks/openscap/run.sh ROOT ubuntu2204-cis_level1_server`: the script the
OpenSCAP section of docs/benchmarks.md documents, evaluating that one profile; its wall time and peak RSS
are those it reports for oscap-chroot alone (`/usr/bin/time -v`), not its own set-up (the data stream
copy, the mount). imagevet runs `audit ROOT --profile all -f json --fail-on never`, byte-compiled first
and with no advisory database, data folder or settings file (_timing.compile_imagevet,
quiet_environment), measured with os.wait4. One unmeasured run of each comes first (page cache).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from _timing import checked_run, compile_imagevet, imagevet_command, quiet_environment, timed

RUN_SH = Path(__file__).resolve().parent / "openscap" / "run.sh"
PROFILE = "ubuntu2204-cis_level1_server"
TARGET = 40.0  # imagevet at least this many times faster
SUMMARY = re.compile(r"^openscap \S+ wall_s=(?P<wall>[\d.]+) peak_rss_mb=(?P<rss>\d+) (?P<counts>.*)$", re.M)


def openscap_run(root: Path, work: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, rule counts) of one OpenSCAP evaluation, as run.sh reports them.
    ``work`` becomes run.sh's TMPDIR, so concurrent benchmarks do not share its results files."""
    proc = subprocess.run(
        ["bash", str(RUN_SH), str(root), PROFILE],
        env={**os.environ, "TMPDIR": str(work)},
        capture_output=True,
        text=True,
    )
    found = SUMMARY.search(proc.stdout)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"run.sh exited {proc.returncode}: {proc.stderr[-400:]}")
    return float(found["wall"]), float(found["rss"]), found["counts"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each tool (default 5)")
    parser.add_argument("--root", type=Path, help="root filesystem (default: the cached debootstrap root)")
    options = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("oscap-chroot") is None:
        raise SystemExit(
            "openscap_ratio.py: needs root and oscap-chroot (apt-get install openscap-utils ssg-debian)"
        )
    if options.root is None:
        from cli_speed import default_root

        options.root = default_root()
    root = options.root.resolve()
    folder = compile_imagevet()
    print(f"byte-compiled {folder} first (PYTHONDONTWRITEBYTECODE leaves a source checkout without .pyc)")
    imagevet = [
        *imagevet_command(),
        "audit",
        str(root),
        "--profile",
        "all",
        "-f",
        "json",
        "--fail-on",
        "never",
    ]
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as scratch:
        env, cwd = quiet_environment(Path(scratch)), Path(scratch)
        checked_run(imagevet, env, cwd, (0,))
        counts = openscap_run(root, cwd)[2]
        for _ in range(options.runs):
            wall, peak, code = timed(imagevet, env, cwd)
            if code != 0:
                raise SystemExit(f"imagevet exited {code}")
            ours.append((wall, peak))
            wall, peak, counts = openscap_run(root, cwd)
            theirs.append((wall, peak))
    mine, other = statistics.median(w for w, _ in ours), statistics.median(w for w, _ in theirs)
    print(f"root: {root}; {options.runs} runs of each, alternately")
    print(
        f"imagevet audit --profile all: median {mine:.3f} s (min {min(w for w, _ in ours):.3f}, "
        f"max {max(w for w, _ in ours):.3f}), peak RSS {max(p for _, p in ours):.1f} MB"
    )
    print(
        f"OpenSCAP {PROFILE}: median {other:.2f} s (min {min(w for w, _ in theirs):.2f}, "
        f"max {max(w for w, _ in theirs):.2f}), peak RSS {max(p for _, p in theirs):.0f} MB; {counts}"
    )
    ratio = other / mine
    verdict = "PASS" if ratio >= TARGET else "FAIL"
    print(
        f"ratio OpenSCAP / imagevet = {ratio:.1f} (target: imagevet at least {TARGET:g}x faster): {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
