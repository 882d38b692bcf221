"""Default-password guesses (issue 19, item 2): serial against parallel, in one run.

    python benchmarks/password_guesses.py [--runs 7] [--root tests/fixtures/audit/yescrypt-accounts]

The root's accounts (by default eight yescrypt hashes at libxcrypt's default cost, one of them guessable)
are read once; then find_default_passwords runs with one worker (the serial loop, what imagevet did before)
and with the default worker count (a thread pool over the (hash, guess) pairs), alternately, so that a
neighbour's load falls on both alike. Prints the medians of wall time and of this process's CPU time and
the ratio; refuses to report if the two answers differ. CPU time counts every thread: parallel must not
cost more work, only less waiting.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))

from imagevet.facts.accounts import Account, find_default_passwords, merge_accounts  # noqa: E402
from imagevet.facts.guesses import GuessJob, worker_count  # noqa: E402

Answer = tuple[list[tuple[str, str]], list[str], list[str]]


def _once(accounts: list[Account], workers: int | None) -> tuple[float, float, Answer]:
    """(wall seconds, CPU seconds of the process, the answer as names) of one full round of guesses."""
    wall, cpu = time.perf_counter(), time.process_time()
    hits, unverifiable, too_costly = find_default_passwords(accounts, workers)
    answer = ([(h.account.name, h.password) for h in hits], unverifiable, too_costly)
    return time.perf_counter() - wall, time.process_time() - cpu, answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--root", type=Path, default=PROJECT / "tests/fixtures/audit/yescrypt-accounts")
    args = parser.parse_args()
    etc = args.root / "etc"
    accounts = merge_accounts((etc / "passwd").read_text(), (etc / "shadow").read_text())
    hashed = [a for a in accounts if a.has_usable_hash]
    jobs = [GuessJob(a.password, ("x",) * 17) for a in hashed]
    print(f"{len(hashed)} hashed accounts in {args.root}; {worker_count(jobs)} worker(s) in parallel")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times: dict[str, list[tuple[float, float]]] = {"serial": [], "parallel": []}
    answers: dict[str, Answer] = {}
    for _ in range(args.runs):
        for label, workers in (("serial", 1), ("parallel", None)):
            wall, cpu, answer = _once(accounts, workers)
            times[label].append((wall, cpu))
            if answers.setdefault(label, answer) != answer:
                print(f"{label}: the answer changed between runs", file=sys.stderr)
                return 1
    if answers["serial"] != answers["parallel"]:
        print(f"answers differ: {answers}", file=sys.stderr)
        return 1
    print(f"answer (both): hits {answers['serial'][0]}, unverifiable {answers['serial'][1]}")
    medians = {
        label: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for label, runs in times.items()
    }
    for label, (wall, cpu) in medians.items():
        print(f"{label:8} median of {args.runs}: wall {wall * 1000:7.0f} ms, cpu {cpu * 1000:7.0f} ms")
    ratio = medians["serial"][0] / medians["parallel"][0]
    print(f"ratio serial/parallel (wall): {ratio:.2f}x")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
