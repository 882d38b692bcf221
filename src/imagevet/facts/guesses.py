"""Trying well-known passwords against hashes, several hashes at a time.

Each guess is one crypt(3) call, and yescrypt is slow on purpose (about 20 ms a call): an image with
eight hashed accounts costs 8 x 17 calls. ctypes releases the GIL during a foreign call and
cryptlib.crypt_matches is reentrant (crypt_rn with one crypt_data per thread), so a thread pool over
(hash, guess) pairs uses every core without a process pool's start-up and pickling.

The answer is exactly the serial one: for each hash, the first guess (in the given order) whose result is
not "no match" decides it, a match or "this method is unknown here". Guesses after an already decided one
of the same hash are skipped, not raced: only guesses that come later in order are ever skipped, so the
first deciding guess is always computed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from imagevet.facts.cryptlib import crypt_matches, crypt_memory_bytes, reentrant

# Memory that the guesses running at once may hold together: yescrypt's default (j9T) takes 16 MiB a
# call, so this allows 8 at once; a hash needing more runs alone (the serial case, bounded per call).
MAX_PARALLEL_BYTES = 128 * 1024 * 1024
# More threads than this brings nothing for a list of 17 guesses and costs stacks and crypt_data buffers.
MAX_WORKERS = 16

Matcher = Callable[[str, str], "bool | None"]
Result = bool | None | str  # a match, no match, an unknown method, or SKIPPED
SKIPPED = "skipped"


@dataclass(frozen=True)
class GuessJob:
    """One hash and the guesses to try on it, in order."""

    hashed: str
    guesses: tuple[str, ...]


@dataclass(frozen=True)
class GuessVerdict:
    """What the guesses told about one hash: the guess that matched, or that crypt(3) here cannot
    verify the hash's method, or (neither) that no guess matched."""

    matched: str | None = None
    unverifiable: bool = False


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count, in a container)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(jobs: Sequence[GuessJob]) -> int:
    """Threads for ``jobs``: no more than the usable CPUs, the guesses to make, MAX_WORKERS, and what
    MAX_PARALLEL_BYTES holds of the most memory-hungry hash; 1 when crypt(3) here is not reentrant."""
    tasks = sum(len(job.guesses) for job in jobs)
    if tasks <= 1 or not reentrant():
        return 1
    memory = max((crypt_memory_bytes(job.hashed) or MAX_PARALLEL_BYTES for job in jobs), default=1)
    by_memory = max(1, MAX_PARALLEL_BYTES // max(memory, 1))
    return max(1, min(usable_cpus(), tasks, MAX_WORKERS, by_memory))


def _verdict(job: GuessJob, results: Sequence[Result]) -> GuessVerdict:
    """The first deciding result in guess order (SKIPPED never comes before it)."""
    for guess, result in zip(job.guesses, results, strict=True):
        if result is True:
            return GuessVerdict(matched=guess)
        if result is None:
            return GuessVerdict(unverifiable=True)
    return GuessVerdict()


def try_serially(jobs: Sequence[GuessJob], matches: Matcher = crypt_matches) -> list[GuessVerdict]:
    """Every job in this thread, each stopping at its first deciding guess: the reference answer."""
    verdicts = []
    for job in jobs:
        results: list[Result] = []
        for guess in job.guesses:
            results.append(matches(guess, job.hashed))
            if results[-1] is not False:
                break
        results += [SKIPPED] * (len(job.guesses) - len(results))
        verdicts.append(_verdict(job, results))
    return verdicts


def try_guesses(
    jobs: Sequence[GuessJob], workers: int | None = None, matches: Matcher = crypt_matches
) -> list[GuessVerdict]:
    """One verdict per job, in job order, identical to try_serially's; ``workers`` threads (None: see
    worker_count) share the (hash, guess) pairs, submitted hash by hash, guess by guess."""
    count = worker_count(jobs) if workers is None else workers
    if count <= 1:
        return try_serially(jobs, matches)
    decided = [len(job.guesses) for job in jobs]  # per job: the lowest guess index found deciding
    lock = threading.Lock()

    def attempt(index: int, position: int) -> Result:
        job = jobs[index]
        if decided[index] < position:
            return SKIPPED  # an earlier guess of this hash already decided it
        result = matches(job.guesses[position], job.hashed)
        if result is not False:
            with lock:
                decided[index] = min(decided[index], position)
        return result

    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="imagevet-crypt") as pool:
        futures = [
            [pool.submit(attempt, index, position) for position in range(len(job.guesses))]
            for index, job in enumerate(jobs)
        ]
        results = [[future.result() for future in row] for row in futures]
    return [_verdict(job, row) for job, row in zip(jobs, results, strict=True)]
