"""BlockStream and the on-disk block cache, over a block source that serves a byte string.

The source here is the pure part of a remote image (the network sources are tested against nginx and moto
in test_http*.py and test_ebs*.py); a real disk image made by sfdisk/mkfs.ext4 is read through it to show
that a block failing half-way through an audit fails the command, even where dissect catches the error.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest

from imagevet.errors import TargetError
from imagevet.target.blockcache import DiskBlockCache
from imagevet.target.blocks import MEMORY_BLOCKS, READAHEAD_MAX, BlockStream, RemoteOptions


class BytesSource:
    """A BlockSource over ``data``; ``holes`` read as zeros, ``broken`` fail, ``delay`` per fetch."""

    kind = "http"
    location = "memory://image"

    def __init__(
        self,
        data: bytes,
        block_size: int = 4096,
        holes: frozenset[int] = frozenset(),
        broken: frozenset[int] = frozenset(),
        delay: float = 0.0,
        key: str | None = None,
    ) -> None:
        self.data, self.block_size, self.size = data, block_size, len(data)
        self.holes, self.broken, self.delay, self.key = holes, broken, delay, key
        self.fetched: list[int] = []
        self.lock = threading.Lock()
        self.closed = False

    def cache_key(self) -> str | None:
        return self.key

    def allocated(self, index: int) -> bool:
        return index not in self.holes

    def fetch(self, index: int) -> bytes:
        time.sleep(self.delay)
        with self.lock:
            self.fetched.append(index)
        if index in self.broken:
            raise TargetError(f"{self.location}: block {index} failed its checksum")
        return self.data[index * self.block_size : (index + 1) * self.block_size]

    def requests(self) -> int:
        return len(self.fetched)

    def close(self) -> None:
        self.closed = True


def random_bytes(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def test_reads_anywhere_equal_the_bytes() -> None:
    data = random_bytes(100_000)  # 24 full blocks and a short last one
    stream = BlockStream(BytesSource(data))
    rng = random.Random(1)
    for _ in range(300):
        offset = rng.randrange(0, len(data) + 10)
        size = rng.choice([0, 1, 511, 4096, 9000, 50_000])
        stream.seek(offset)
        assert stream.read(size) == data[offset : offset + size]
    stream.seek(-5, os.SEEK_END)
    assert stream.read() == data[-5:]
    assert stream.read(10) == b""


def test_only_touched_blocks_are_fetched_and_holes_cost_nothing() -> None:
    data = bytes(4096 * 3) + random_bytes(4096 * 7)
    source = BytesSource(data, holes=frozenset({0, 1, 2}))
    stream = BlockStream(source)
    assert stream.read(4096 * 3) == bytes(4096 * 3)
    assert source.fetched == []
    stream.seek(4096 * 8 + 10)
    assert stream.read(100) == data[4096 * 8 + 10 : 4096 * 8 + 110]
    assert source.fetched == [8]
    assert stream.stats.zero_blocks == 3
    assert stream.stats.fetched_bytes == 4096


def test_the_blocks_of_one_read_are_fetched_concurrently() -> None:
    data = random_bytes(4096 * 16)
    source = BytesSource(data, delay=0.1)
    stream = BlockStream(source)
    started = time.monotonic()
    assert stream.read(4096 * 8) == data[: 4096 * 8]
    assert time.monotonic() - started < 0.5  # eight fetches one after another would take 0.8 s


def test_sequential_reads_are_read_ahead_within_a_bounded_window() -> None:
    data = random_bytes(4096 * 64)
    source = BytesSource(data)
    stream = BlockStream(source)
    for _ in range(6):  # six sequential single-block reads widen the window
        stream.read(4096)
    time.sleep(0.05)
    assert max(source.fetched) <= 5 + READAHEAD_MAX
    assert max(source.fetched) > 6  # something was read ahead
    stream.seek(4096 * 40)  # a jump resets the window: nothing beyond the block read
    before = len(source.fetched)
    stream.read(10)
    time.sleep(0.05)
    assert source.fetched[before:] == [40]


def test_a_failed_block_poisons_the_stream() -> None:
    source = BytesSource(random_bytes(4096 * 8), broken=frozenset({3}))
    stream = BlockStream(source)
    assert stream.read(10)
    stream.seek(4096 * 3)
    with pytest.raises(TargetError, match="block 3 failed its checksum"):
        stream.read(10)
    stream.seek(0)
    with pytest.raises(TargetError, match="block 3"):  # even a block that was fine before
        stream.read(10)
    assert stream.failure is not None


def test_a_block_of_the_wrong_length_is_refused() -> None:
    class Short(BytesSource):
        def fetch(self, index: int) -> bytes:
            return super().fetch(index)[:-1]

    stream = BlockStream(Short(random_bytes(4096 * 2)))
    with pytest.raises(TargetError, match="block 0 has 4095 bytes, expected 4096"):
        stream.read(1)


def test_an_unexpected_error_is_one_line_without_its_text() -> None:
    class Buggy(BytesSource):
        def fetch(self, index: int) -> bytes:
            raise KeyError("secret-token")

    stream = BlockStream(Buggy(random_bytes(4096)))
    with pytest.raises(TargetError) as raised:
        stream.read(1)
    assert str(raised.value) == "memory://image: bytes 0-0 could not be read (KeyError)"


def test_a_read_longer_than_the_memory_holds(tmp_path: Path) -> None:
    """The memory LRU keeps MEMORY_BLOCKS blocks; a read of more (holes, cached and fetched blocks mixed)
    still returns every one of its blocks, though the LRU dropped some while the others arrived."""
    count = MEMORY_BLOCKS + 40
    data = bytes(4096 * 100) + random_bytes(4096 * (count - 100))
    holes = frozenset(range(100))
    stream = BlockStream(BytesSource(data, holes=holes))
    assert stream.read(len(data)) == data
    warm = BlockStream(BytesSource(data, key="k"), DiskBlockCache.open(tmp_path / "c", "k", 1 << 30))
    warm.read(len(data))
    source = BytesSource(data, holes=holes, key="k")
    full = BlockStream(source, DiskBlockCache.open(tmp_path / "c", "k", 1 << 30))
    full.seek(4096 * (count - MEMORY_BLOCKS))
    full.read()  # memory full, oldest first
    full.seek(0)
    assert full.read(len(data)) == data  # its first blocks are dropped by the holes and cached ones after
    assert source.fetched == []


def test_a_closed_stream_reads_nothing() -> None:
    stream = BlockStream(BytesSource(random_bytes(4096)))
    stream.close()
    with pytest.raises(ValueError, match="closed"):
        stream.read_at(0, 1)


def test_close_stops_and_closes_the_source() -> None:
    source = BytesSource(random_bytes(4096 * 4))
    stream = BlockStream(source)
    stream.read(100)
    stream.close()
    stream.close()
    assert source.closed


# ---- the on-disk cache -----------------------------------------------------------------------------
def test_a_second_stream_is_served_from_the_disk_cache(tmp_path: Path) -> None:
    data = random_bytes(4096 * 10)
    first = BytesSource(data, key="snap-1")
    stream = BlockStream(first, DiskBlockCache.open(tmp_path / "cache", "snap-1", 1 << 30))
    assert stream.read(4096 * 10) == data
    stream.close()
    second = BytesSource(data, key="snap-1")
    again = BlockStream(second, DiskBlockCache.open(tmp_path / "cache", "snap-1", 1 << 30))
    assert again.read(4096 * 10) == data
    assert second.fetched == []
    assert again.stats.cached_bytes == len(data)
    assert oct((tmp_path / "cache").stat().st_mode & 0o777) == "0o700"


def test_a_damaged_cache_block_is_fetched_again(tmp_path: Path) -> None:
    data = random_bytes(4096 * 2)
    cache = DiskBlockCache.open(tmp_path / "cache", "k", 1 << 30)
    assert cache is not None
    BlockStream(BytesSource(data, key="k"), cache).read(4096 * 2)
    block = next(p for p in cache.folder.iterdir() if p.name.startswith("1-"))
    block.write_bytes(b"\0" * 4096)  # same length, other bytes: its name no longer matches
    source = BytesSource(data, key="k")
    stream = BlockStream(source, DiskBlockCache.open(tmp_path / "cache", "k", 1 << 30))
    assert stream.read(4096 * 2) == data
    assert source.fetched == [1]


def test_a_cache_root_others_can_write_is_not_used(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    root.mkdir()
    root.chmod(0o777)
    assert DiskBlockCache.open(root, "k", 1 << 30) is None
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    assert DiskBlockCache.open(link, "k", 1 << 30) is None


def test_the_cache_is_pruned_least_recently_used_first(tmp_path: Path) -> None:
    data = random_bytes(4096 * 8)
    cache = DiskBlockCache.open(tmp_path / "cache", "k", 4096 * 3)
    assert cache is not None
    for index in range(8):
        cache.put(index, data[index * 4096 : (index + 1) * 4096])
        os.utime(cache.folder / cache._index()[index], (1000 + index, 1000 + index))
    cache.prune()
    left = sorted(int(p.name.split("-")[0]) for p in cache.folder.iterdir())
    assert left == [5, 6, 7]


def test_remote_options_default_to_no_cache() -> None:
    assert RemoteOptions().cache_dir is None


# ---- a real disk image through the stream ------------------------------------------------------------
@pytest.mark.real
def test_a_block_failing_mid_audit_fails_the_target(tmp_path: Path) -> None:
    """dissect catches exceptions while it reads (a file it cannot read becomes an unknown fact), so the
    stream's first failure is what the command goes by: ``failure()`` names it, and opened_target raises
    it once the audit is done."""
    from imagevet.audit import run_audit
    from imagevet.checks.base import CheckOptions
    from imagevet.checks.registry import CHECKS
    from imagevet.target.remote import disk_over
    from tests.conftest import AS_OF_DAY, FIXTURES
    from tests.support.disks import disk_tools_available, make_disk

    if not disk_tools_available():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")
    raw = make_disk(FIXTURES / "rootfs/hardened-debian", tmp_path / "disk.raw", size_mib=64, fmt="raw")
    data = raw.read_bytes()
    options = CheckOptions(AS_OF_DAY)

    recording = BytesSource(data, block_size=65536)
    target = disk_over("disk:memory", recording, RemoteOptions(), {})
    opened = set(recording.fetched)
    healthy = {r.check: r.status for r in run_audit(target, options, list(CHECKS)).results}
    later = sorted(set(recording.fetched) - opened)
    target.close()
    assert later and target.failure() is None

    broken = BytesSource(data, block_size=65536, broken=frozenset(later))
    target = disk_over("disk:memory", broken, RemoteOptions(), {})
    results = {r.check: r.status for r in run_audit(target, options, list(CHECKS)).results}
    target.close()
    assert results != healthy  # dissect carried on with what it could read ...
    assert "failed its checksum" in str(target.failure())  # ... but the target knows it failed


def test_a_stream_dropped_unclosed_is_finalized_without_waiting_for_its_fetches() -> None:
    """The garbage collector may finalize a stream inside threading's own locked bookkeeping, where joining
    a thread deadlocks (a whole suite hung in Thread.start so). The finalizer must return at once, with a
    fetch still in flight, and that fetch must still end on its own."""
    release = threading.Event()

    class Stuck(BytesSource):
        def fetch(self, index: int) -> bytes:
            release.wait(30)
            return super().fetch(index)

    stream = BlockStream(Stuck(random_bytes(4096 * 4)))
    reader = threading.Thread(target=stream.read, args=(4096,), daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while stream._pool is None and time.monotonic() < deadline:  # the fetch has been handed to a thread
        time.sleep(0.01)
    pool = stream._pool
    assert pool is not None
    finalizer = threading.Thread(target=stream.__del__, daemon=True)
    finalizer.start()
    finalizer.join(5)
    waited = finalizer.is_alive()
    release.set()
    assert not waited, "the finalizer waited for a fetch in flight"
    assert stream.closed
    reader.join(10)
    pool.shutdown(wait=True)
