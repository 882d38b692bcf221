"""The same imagevet command from an earlier commit and from this checkout, run alternately in one session
(the machines are shared and noisy, so only the ratio means something).

The earlier commit's ``src/`` is exported with ``git archive`` into a temporary folder and put first on
PYTHONPATH; both run in this venv, so only imagevet's own code differs. Usage:

    python benchmarks/against_commit.py [--base REV] [--runs N] [-- IMAGEVET ARGS...]

Without arguments it compares `imagevet audit ROOT --profile all --format json --fail-on never` on the
hardened-debian fixture root, and `imagevet --version` (the start-up alone).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOT = REPO / "tests" / "fixtures" / "rootfs" / "hardened-debian"


def export_src(base: str, into: Path) -> Path:
    """``base``'s src/ tree under ``into`` (git archive, no checkout touched)."""
    archive = into / "src.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(REPO), "archive", base, "src"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def wall(src: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), "IMAGEVET_DB": str(REPO / "no-such.sqlite3")}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "imagevet", *args], env=env, capture_output=True)
    if proc.returncode not in (0, 1, 2) or b"Traceback" in proc.stderr:
        raise SystemExit(f"imagevet failed ({proc.returncode}): {proc.stderr.decode()[-300:]}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="bf79723", help="the earlier commit (default: before issue 18)")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("args", nargs="*", help="imagevet arguments (after --)")
    options = parser.parse_args()
    commands = (
        [options.args]
        if options.args
        else [["--version"], ["audit", str(ROOT), "--profile", "all", "-f", "json", "--fail-on", "never"]]
    )
    with tempfile.TemporaryDirectory() as folder:
        base_src = export_src(options.base, Path(folder))
        for args in commands:
            times: dict[str, list[float]] = {"base": [], "head": []}
            wall(base_src, args), wall(REPO / "src", args)  # warm the page cache
            for _ in range(options.runs):
                times["base"].append(wall(base_src, args))
                times["head"].append(wall(REPO / "src", args))
            base, head = statistics.median(times["base"]), statistics.median(times["head"])
            print(
                f"imagevet {' '.join(args[:1])}: {options.base} {base * 1000:.0f} ms, this checkout "
                f"{head * 1000:.0f} ms, ratio {head / base:.2f} (medians of {options.runs})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
