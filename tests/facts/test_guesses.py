"""Default-password guesses in parallel give exactly the serial answer, with the system's crypt(3).

The yescrypt hashes come from libxcrypt itself (fixtures/rootfs/yescrypt-accounts/HOW.md), not from
imagevet's binding; the scheduling tests use a matcher with its own table, so that completion order can
be shuffled without hashing.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from imagevet.facts.accounts import Account, find_default_passwords, merge_accounts
from imagevet.facts.cryptlib import crypt_matches, reentrant
from imagevet.facts.guesses import (
    MAX_PARALLEL_BYTES,
    GuessJob,
    GuessVerdict,
    Matcher,
    try_guesses,
    try_serially,
    usable_cpus,
    worker_count,
)
from tests.conftest import FIXTURES

YESCRYPT = FIXTURES / "audit/yescrypt-accounts/etc"
DEFAULTS = FIXTURES / "rootfs/default-passwords/etc"
ROOTS = {"yescrypt-accounts": YESCRYPT, "default-passwords": DEFAULTS}


def _accounts(name: str) -> list[Account]:
    root = ROOTS[name]
    return merge_accounts((root / "passwd").read_text(), (root / "shadow").read_text())


def test_the_system_crypt_is_reentrant() -> None:
    assert reentrant()  # libxcrypt has crypt_rn; without it the guesses would stay serial


def test_parallel_finds_the_guessable_yescrypt_account_as_serial_does() -> None:
    accounts = [a for a in _accounts("yescrypt-accounts") if a.name in ("svc1", "ops", "svc7")]
    assert [a.password[:7] for a in accounts] == ["$y$j9T$"] * 3
    parallel = find_default_passwords(accounts, workers=3)
    assert parallel == find_default_passwords(accounts, workers=1)
    hits, unverifiable, too_costly = parallel
    assert [(h.account.name, h.password) for h in hits] == [("ops", "changeme")]
    assert (unverifiable, too_costly) == ([], [])


def test_parallel_equals_serial_for_every_hash_method() -> None:
    accounts = _accounts("default-passwords")  # yescrypt, sha512/256crypt, md5crypt, locked, strong
    accounts.append(Account("odd", 1500, "/bin/sh", "%%abcdefghijk", "/etc/shadow", 9))  # DES, bad salt
    accounts.append(Account("new", 1501, "/bin/sh", "$unknownmethod$abc", "/etc/shadow", 10))
    serial = find_default_passwords(accounts, workers=1)
    for workers in (2, 4):
        assert find_default_passwords(accounts, workers=workers) == serial
    hits = [(h.account.name, h.password) for h in serial[0]]
    assert hits == [("root", "root"), ("ubuntu", "ubuntu"), ("deploy", "changeme"), ("admin", "admin")]
    assert (serial[1], serial[2]) == (["odd"], ["new"])  # crypt(3) refuses it; its cost is unknown


def test_crypt_matches_from_many_threads_keeps_each_answer() -> None:
    """One crypt_data per thread: concurrent calls never see another call's output."""
    shadow = (DEFAULTS / "shadow").read_text().splitlines()
    hashes = {line.split(":")[0]: line.split(":")[1] for line in shadow}
    cases = [
        ("root", hashes["root"], True),
        ("wrong", hashes["root"], False),
        ("changeme", hashes["deploy"], True),
        ("admin", hashes["admin"], True),
        ("admin", hashes["deploy"], False),
        ("x", "$unknownmethod$abc", None),
    ] * 20
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda case: crypt_matches(case[0], case[1]), cases))
    assert answers == [expected for _, _, expected in cases]


def _table_matcher(table: dict[tuple[str, str], bool | None]) -> tuple[Matcher, list[str]]:
    calls: list[str] = []
    lock = threading.Lock()
    rng = random.Random(19)

    def matches(guess: str, hashed: str) -> bool | None:
        time.sleep(rng.random() / 2000)  # shuffle which thread finishes first
        with lock:
            calls.append(f"{hashed}/{guess}")
        return table.get((hashed, guess), False)

    return matches, calls


@pytest.mark.parametrize("workers", [2, 3, 8])
def test_scheduling_gives_the_serial_verdicts_in_job_order(workers: int) -> None:
    rng = random.Random(workers)
    jobs: list[GuessJob] = []
    table: dict[tuple[str, str], bool | None] = {}
    for index in range(40):
        guesses = tuple(f"g{n}" for n in range(17))
        hashed = f"h{index}"
        for position in rng.sample(range(17), rng.choice([0, 0, 1, 2])):
            table[(hashed, guesses[position])] = rng.choice([True, True, None])
        jobs.append(GuessJob(hashed, guesses))
    matches, _ = _table_matcher(table)
    serial = try_serially(jobs, matches)
    assert try_guesses(jobs, workers, matches) == serial
    assert GuessVerdict() in serial and GuessVerdict(unverifiable=True) in serial
    assert any(v.matched for v in serial)


def test_an_earlier_unknown_method_decides_before_a_later_match() -> None:
    job = GuessJob("h", ("a", "b", "c"))
    matches, _ = _table_matcher({("h", "b"): None, ("h", "c"): True})
    assert try_guesses([job], 3, matches) == [GuessVerdict(unverifiable=True)]


def test_worker_count_is_bounded() -> None:
    yescrypt = (YESCRYPT / "shadow").read_text().splitlines()[2].split(":")[1]
    jobs = [GuessJob(yescrypt, ("a",) * 17)] * 8
    assert 1 <= worker_count(jobs) <= min(16, MAX_PARALLEL_BYTES // (16 * 1024 * 1024))
    assert worker_count([GuessJob(yescrypt, ("a",))]) == 1  # one guess: no pool
    assert worker_count([]) == 1
    huge = "$y$j" + "D" + "T$salt$hash"  # N = 2^16, r = 32: 256 MiB a call, more than the budget
    assert worker_count([GuessJob(huge, ("a", "b"))]) == 1


def test_the_default_worker_count_uses_several_threads_where_there_are_cpus() -> None:
    if usable_cpus() < 2:
        pytest.skip("one usable CPU: the guesses stay serial by design")
    threads: set[int] = set()

    def matches(guess: str, hashed: str) -> bool | None:
        threads.add(threading.get_ident())
        time.sleep(0.002)  # a call long enough for the pool's other threads to take work
        return False

    jobs = [GuessJob("$6$salt$hash", tuple(f"g{n}" for n in range(17)))] * 4
    assert worker_count(jobs) >= 2
    assert try_guesses(jobs, None, matches) == [GuessVerdict()] * 4
    assert len(threads) >= 2 and threading.get_ident() not in threads
