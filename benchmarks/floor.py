"""Each imagevet command's median wall time as a multiple of the interpreter's floor, all in one session.

The machines are shared and noisy, so an absolute time says little; a ratio to what the same Python
costs in the same minutes does (issue 19, item 5). F is `python -c "import yaml"` in the tool's own venv:
the least a Python CLI that reads YAML can cost. All runs are interleaved round-robin (run 1 of every
command, then run 2 of every command, ...), so a burst of load falls on all commands alike. Each run is a
fresh process, its peak RSS its own (os.wait4). Usage:

    python benchmarks/floor.py [--runs N] [--root PATH]

imagevet's source is byte-compiled first (see _timing.compile_imagevet). imagevet runs with no advisory
database, data folder or settings file (_timing.quiet_environment), so the default audit always exits 1
(updates-pending-security cannot be decided); exit 1 of a gate is a verdict and counts as a run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from _timing import checked_run, compile_imagevet, imagevet_command, quiet_environment, timed

FLOOR = "python -c pass"
F = 'python -c "import yaml" (F)'
AUDIT = "imagevet audit ROOT -f json"
ALL = "imagevet audit ROOT --profile all -f json --fail-on never"
RECOMMEND = "imagevet recommend --scenario web-api --cloud aws --format json"
TIME_TARGETS = {AUDIT: 3.0, RECOMMEND: 3.0}  # at most this many F
RSS_TARGETS = {ALL: 40.0}  # MB, the highest peak of the runs


@dataclass
class Command:
    label: str
    argv: list[str]
    exits: tuple[int, ...]
    walls: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)


def commands(root: Path) -> list[Command]:
    """The commands in the order of each round, each with the exit codes of a normal run (1: a verdict)."""
    python, imagevet = sys.executable, imagevet_command()
    every_check = ["--profile", "all", "-f", "json", "--fail-on", "never"]
    recommend = ["recommend", "--scenario", "web-api", "--cloud", "aws", "--format", "json"]
    return [
        Command(FLOOR, [python, "-c", "pass"], (0,)),
        Command(F, [python, "-c", "import yaml"], (0,)),
        Command("imagevet --version", [*imagevet, "--version"], (0,)),
        Command(AUDIT, [*imagevet, "audit", str(root), "-f", "json"], (0, 1)),
        Command(ALL, [*imagevet, "audit", str(root), *every_check], (0,)),
        Command(RECOMMEND, [*imagevet, *recommend], (0, 1)),
    ]


def measure(runs: list[Command], rounds: int, env: dict[str, str], cwd: Path) -> None:
    for command in runs:
        checked_run(command.argv, env, cwd, command.exits)
    for _ in range(rounds):
        for command in runs:
            wall, peak, code = timed(command.argv, env, cwd)
            if code not in command.exits:
                raise SystemExit(f"{command.label} exited {code}")
            command.walls.append(wall)
            command.peaks.append(peak)


def report(runs: list[Command]) -> int:
    """Print the table and the verdicts; the number of targets missed."""
    medians = {c.label: statistics.median(c.walls) for c in runs}
    width = max(len(c.label) for c in runs)
    print(f"{'command':<{width}}  median ms  min ms  max ms  peak MB   x F  x pass")
    for c in runs:
        median, low, high = medians[c.label], min(c.walls), max(c.walls)
        print(
            f"{c.label:<{width}}  {median * 1000:9.0f}  {low * 1000:6.0f}  {high * 1000:6.0f}"
            f"  {max(c.peaks):7.1f}  {median / medians[F]:4.2f}  {median / medians[FLOOR]:6.2f}"
        )
    missed = 0
    for label, limit in TIME_TARGETS.items():
        ratio = medians[label] / medians[F]
        missed += ratio > limit
        print(
            f"ratio {label} / F = {ratio:.2f} (target <= {limit:g}): {'PASS' if ratio <= limit else 'FAIL'}"
        )
    peaks = {c.label: max(c.peaks) for c in runs}
    for label, limit in RSS_TARGETS.items():
        missed += peaks[label] > limit
        verdict = "PASS" if peaks[label] <= limit else "FAIL"
        print(f"peak RSS {label} = {peaks[label]:.1f} MB (target <= {limit:g} MB): {verdict}")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="rounds of every command (default 15)")
    parser.add_argument(
        "--root", type=Path, help="root filesystem to audit (default: the cached debootstrap root)"
    )
    options = parser.parse_args()
    if options.root is None:
        from cli_speed import default_root

        options.root = default_root()
    folder = compile_imagevet()
    print(f"byte-compiled {folder} first (PYTHONDONTWRITEBYTECODE leaves a source checkout without .pyc)")
    runs = commands(options.root.resolve())
    with tempfile.TemporaryDirectory() as scratch:
        measure(runs, options.runs, quiet_environment(Path(scratch)), Path(scratch))
    print(f"root: {options.root}; {options.runs} rounds, interleaved; medians of each command")
    missed, targets = report(runs), len(TIME_TARGETS) + len(RSS_TARGETS)
    print(f"{targets - missed} of {targets} targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
