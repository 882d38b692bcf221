"""A disk image that lives elsewhere, read as a local file: fixed-size blocks fetched on demand.

The remote kinds of target (an AMI's EBS snapshot, a disk image behind an HTTP URL) each provide a
``BlockSource``: the image's size, its block size, which blocks hold data, and a ``fetch`` that returns one
block's bytes verified (checksum, length, the remote file unchanged) or raises a one-line TargetError.
``BlockStream`` turns a source into the seekable, read-only file object the disk reader (dissect) expects:

- only the blocks a read touches are fetched; the blocks of one read are fetched concurrently, and a run of
  sequential reads is read ahead (a window that doubles up to ``READAHEAD_MAX`` blocks), so reading a large
  file costs round trips in parallel rather than one after another;
- blocks are kept in memory for the run (least recently used first out, ``MEMORY_BLOCKS`` at most) and,
  when the source has a stable identity, in an on-disk cache shared by later runs (``blockcache.py``);
- unallocated blocks read as zeros without a request;
- the first failure poisons the stream: every later read raises it again, and ``failure`` keeps it, so a
  library that catches exceptions (dissect does, while probing) cannot turn a missing block into a
  half-read image: the command ends with the one-line reason (``target.open.opened_target``).
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from imagevet.errors import TargetError

if TYPE_CHECKING:  # imported where a stream first fetches: RemoteOptions is built by every command
    from concurrent.futures import Future, ThreadPoolExecutor

MEMORY_BLOCKS = 192  # 96 MiB of EBS's 512 KiB blocks, 48 MiB of HTTP's 256 KiB
READAHEAD_MAX = 8
FETCH_THREADS = 8


class BlockSource(Protocol):
    """Where an image's bytes are, in blocks of ``block_size`` (the last one may be short)."""

    kind: str  # "ebs" | "http"
    location: str  # for messages and reports: never a secret (a signed URL's query is left out)
    size: int
    block_size: int

    def cache_key(self) -> str | None:
        """A stable identity of these exact bytes (an EBS snapshot id; a URL with a strong ETag), or None
        when nothing proves that a later run would read the same bytes."""
        ...

    def allocated(self, index: int) -> bool:
        """False when the block holds no data and reads as zeros (an EBS snapshot's unwritten blocks)."""
        ...

    def fetch(self, index: int) -> bytes:
        """The block's bytes, verified; raises TargetError naming the block and the reason. Thread-safe."""
        ...

    def requests(self) -> int:
        """Requests made so far (listing, retries and fetches)."""
        ...

    def close(self) -> None: ...


class BlockStore(Protocol):
    """An on-disk cache of verified blocks (blockcache.DiskBlockCache)."""

    def get(self, index: int) -> bytes | None: ...

    def put(self, index: int, data: bytes) -> None: ...

    def prune(self) -> None: ...


@dataclass
class ReadStats:
    """What reading cost so far: blocks and bytes fetched from the source, bytes served from the on-disk
    cache, and blocks that read as zeros without a fetch."""

    fetched_blocks: int = 0
    fetched_bytes: int = 0
    cached_bytes: int = 0
    zero_blocks: int = 0


@dataclass(frozen=True)
class RemoteOptions:
    """How remote images are read: the AWS region of an ``ami:`` target, whether an HTTP server without
    range support may be downloaded whole (at most ``max_download_bytes``), where the on-disk block cache
    lives (None: no cache) and how large it may grow, the deadline of one HTTP exchange, and a progress
    callback (called with the location, the stats and the requests so far after each fetch, from
    a fetching thread)."""

    region: str | None = None
    download: bool = False
    cache_dir: Path | None = None
    cache_max_bytes: int = 4 << 30
    progress: Callable[[str, ReadStats, int], None] | None = None
    max_download_bytes: int = 64 << 30
    timeout: float = 30.0


class BlockStream(io.RawIOBase):
    """A read-only, seekable view of a BlockSource (see the module docstring)."""

    def __init__(
        self,
        source: BlockSource,
        store: BlockStore | None = None,
        progress: Callable[[str, ReadStats, int], None] | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.stats = ReadStats()
        self.failure: TargetError | None = None
        self._store = store
        self._progress = progress
        self._position = 0
        self._memory: OrderedDict[int, bytes] = OrderedDict()
        self._pending: dict[int, Future[bytes]] = {}
        self._lock = threading.Lock()  # the reading side: memory, pending fetches, readahead
        self._stats_lock = threading.Lock()  # the fetching threads' counters (never held while waiting)
        self._pool: ThreadPoolExecutor | None = None
        self._last_end = -1
        self._last_block = -1
        self._window = 1
        self.name = source.location

    # ---- io.RawIOBase ------------------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self.source.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if position < 0:
            raise ValueError("negative seek position")
        self._position = position
        return position

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read_at(self._position, len(buffer))
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = max(0, self.source.size - self._position)
        data = self.read_at(self._position, size)
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        """Stop the fetches in flight, close the source (its connections) and prune the disk cache."""
        if self.closed:
            return
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()
        self._memory.clear()
        self.source.close()
        if self._store is not None:
            self._store.prune()
        super().close()

    def __del__(self) -> None:
        """A stream dropped without close() is finalized by the garbage collector, which may run anywhere,
        even inside threading's own bookkeeping while it holds a lock that joining a thread needs
        (Thread._set_tstate_lock holds _shutdown_locks_lock: a suite hung there for good). So the finalizer
        only tells the fetching threads to stop, and waits for nothing; the source and the cache are left to
        their own finalizers, since a fetch still in flight may be using them."""
        pool = getattr(self, "_pool", None)
        if pool is not None:
            self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
        io.RawIOBase.close(self)

    def settle(self) -> ReadStats:
        """The stats once the fetches in flight (blocks read ahead) have finished, so what a report says
        was fetched is what the source sent (a fetch started but not yet counted would go missing)."""
        with self._lock:
            pending = list(self._pending.values())
        if pending:
            from concurrent.futures import wait

            wait(pending)
        return self.stats

    # ---- reading -----------------------------------------------------------------------------------
    def read_at(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset`` (fewer at the end of the image); raises the stream's failure."""
        if self.closed:
            raise ValueError("I/O operation on a closed block stream")
        if self.failure is not None:
            raise self.failure
        end = min(offset + size, self.source.size)
        if offset >= end:
            return b""
        block = self.source.block_size
        first, last = offset // block, (end - 1) // block
        try:
            with self._lock:
                self._read_ahead(offset, end, last)
                blocks = self._blocks(range(first, last + 1))
        except TargetError as exc:
            self.failure = exc
            raise
        except Exception as exc:  # a source's bug or an unexpected library error: still one line
            what = f"bytes {offset}-{end - 1} could not be read ({exc.__class__.__name__})"
            self.failure = TargetError(f"{self.source.location}: {what}")
            raise self.failure from exc
        joined = blocks[0] if len(blocks) == 1 else b"".join(blocks)
        start = offset - first * block
        return joined[start : start + (end - offset)]

    def _read_ahead(self, offset: int, end: int, last: int) -> None:
        """A read that starts where the previous one ended, in a block after the previous read's, widens a
        window of blocks fetched ahead (in the background); a read elsewhere resets it. Reads within one
        block (the probes of a header, the four entries of an MBR) are no sign of a long sequence."""
        if offset == self._last_end and offset // self.source.block_size > self._last_block:
            self._window = min(self._window * 2, READAHEAD_MAX)
        elif offset != self._last_end:
            self._window = 1
        self._last_end, self._last_block = end, last
        self._harvest()
        if self._window > 1 and len(self._pending) < READAHEAD_MAX + FETCH_THREADS:
            count = -(-self.source.size // self.source.block_size)
            for index in range(last + 1, min(last + 1 + self._window, count)):
                self._start(index)

    def _harvest(self) -> None:
        """Move finished fetches into memory, so blocks read ahead but never asked for do not pile up; a
        failed one is dropped (only a block that is read can fail the stream: it is fetched again)."""
        for index, future in list(self._pending.items()):
            if future.done():
                del self._pending[index]
                if future.exception() is None:
                    self._remember(index, future.result())

    def _blocks(self, indexes: range) -> list[bytes]:
        """The blocks of one read, each taken as soon as it is had (memory, zeros, the disk cache) or
        fetched (the missing ones in parallel): the memory LRU may drop a block of this very read while
        the others arrive, so nothing is looked up in memory twice."""
        got: dict[int, bytes] = {}
        for index in indexes:
            data = self._start(index)
            if data is not None:
                got[index] = data
        for index in indexes:
            if index not in got:
                data = self._pending.pop(index).result()
                self._remember(index, data)
                got[index] = data
        return [got[index] for index in indexes]

    def _start(self, index: int) -> bytes | None:
        """Block ``index`` if it is had at once (memory, zeros, the disk cache; then it is in memory), else
        None with its fetch on its way in the pool."""
        data = self._memory.get(index)
        if data is not None:
            self._memory.move_to_end(index)
            return data
        if index in self._pending:
            return None
        if not self.source.allocated(index):
            self.stats.zero_blocks += 1
            data = bytes(self._length(index))
            self._remember(index, data)
            return data
        if self._store is not None:
            cached = self._store.get(index)
            if cached is not None and len(cached) == self._length(index):
                self.stats.cached_bytes += len(cached)
                self._remember(index, cached)
                return cached
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(FETCH_THREADS, thread_name_prefix="imagevet-fetch")
        self._pending[index] = self._pool.submit(self._fetch, index)
        return None

    def _fetch(self, index: int) -> bytes:
        data = self.source.fetch(index)
        if len(data) != self._length(index):
            raise TargetError(
                f"{self.source.location}: block {index} has {len(data)} bytes, expected {self._length(index)}"
            )
        if self._store is not None:
            self._store.put(index, data)
        with self._stats_lock:
            self.stats.fetched_blocks += 1
            self.stats.fetched_bytes += len(data)
            if self._progress is not None:
                self._progress(self.source.location, self.stats, self.source.requests())
        return data

    def _length(self, index: int) -> int:
        block = self.source.block_size
        return min(block, self.source.size - index * block)

    def _remember(self, index: int, data: bytes) -> None:
        self._memory[index] = data
        while len(self._memory) > MEMORY_BLOCKS:
            self._memory.popitem(last=False)
