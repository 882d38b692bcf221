"""Where one audit's time goes: the CLI and the parse of its command line, the audit's imports, the first
run (knowledge validated, modules imported on use) and a second, warm run in the same process (the
audit's own work).

Each part is measured in one fresh interpreter per round, rounds repeated and medians printed, so the
parts add up to one run's time as a user pays it. Usage:

    python benchmarks/startup_parts.py [--runs N] [--root PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import compile_imagevet, quiet_environment
from cli_speed import default_root

PARTS = ("cli and its parse", "audit imports", "first audit", "warm audit")

# Runs inside the measured interpreter: prints the four parts' seconds as JSON. The command line is parsed
# as a user's run parses it (cli/fast.py; Typer only when that declines, which would show here as time).
PROBE = """
import contextlib, io, json, sys, time
t0 = time.perf_counter()
from imagevet.cli import fast
args = ["audit", sys.argv[1], "-f", "json", "--fail-on", "never"]
prepared = fast.prepare(args, {})
assert prepared is not None, "the fast parser declined: is src/imagevet/cli/commands.json stale?"
t1 = time.perf_counter()
import imagevet.audit, imagevet.report.audit
t2 = time.perf_counter()
def run(prepared):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            prepared.run()
        except SystemExit:
            pass
run(prepared)
t3 = time.perf_counter()
run(fast.prepare(args, {}))
t4 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1, t3 - t2, t4 - t3]))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--root", type=Path, default=None)
    options = parser.parse_args()
    root = options.root or default_root()
    compile_imagevet()
    samples: list[list[float]] = []
    with tempfile.TemporaryDirectory() as folder:
        env = quiet_environment(Path(folder))
        for _ in range(options.runs + 1):  # the first round warms the page cache and the knowledge cache
            proc = subprocess.run(
                [sys.executable, "-c", PROBE, str(root)], capture_output=True, text=True, env=env, check=True
            )
            samples.append(json.loads(proc.stdout))
    medians = [statistics.median(sample[i] for sample in samples[1:]) for i in range(len(PARTS))]
    for name, value in zip(PARTS, medians, strict=True):
        print(f"{name:<22} {value * 1000:7.1f} ms")
    print(f"{'total':<22} {sum(medians[:3]) * 1000:7.1f} ms (one run as a user pays it, interpreter aside)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
