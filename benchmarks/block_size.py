"""What the HTTP block size costs: bytes fetched and requests made by the audit of the 2 GiB Debian disk
(the qcow2 of benchmarks/remote_read.py, served by a real nginx) for each block size, and the time over a
link that adds 50 ms to every request (tests/support/http_ranges.py's range server with a delay).

Bytes and requests decide the block size (docs/targets.md "Disk images by URL"): bytes grow with the
block, and over a slow link the time follows the requests, since most of them wait for the one before::

    .venv/bin/python benchmarks/block_size.py
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.remote_read import ensure_disks  # noqa: E402
from tests.support.debian_root import ensure_debian_root  # noqa: E402
from tests.support.http_ranges import RangeServer, serve_ranges  # noqa: E402
from tests.support.nginx import start_nginx  # noqa: E402

from imagevet.audit import run_audit  # noqa: E402
from imagevet.checks.base import CheckOptions  # noqa: E402
from imagevet.checks.registry import CHECKS  # noqa: E402
from imagevet.target.blocks import RemoteOptions  # noqa: E402
from imagevet.target.http import open_url_source  # noqa: E402
from imagevet.target.remote import disk_over  # noqa: E402

SIZES = (64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20)
AS_OF = dt.date(2026, 11, 28)


def audit(url: str, block_size: int) -> tuple[int, int, float]:
    """(bytes fetched, requests, seconds) of a whole audit of ``url`` read in ``block_size`` blocks."""
    started = time.perf_counter()
    opened = open_url_source(url, RemoteOptions(), block_size)
    assert isinstance(opened, tuple)
    source, details = opened
    target = disk_over(url, source, RemoteOptions(), details)
    try:
        run_audit(target, CheckOptions(AS_OF), list(CHECKS))
    finally:
        target.close()
    info = target.info.source
    assert info is not None
    return info.fetched_bytes, info.requests, time.perf_counter() - started


def main() -> int:
    folder = ensure_disks(ensure_debian_root())
    image = folder / "gpt.qcow2"
    rows = []
    with tempfile.TemporaryDirectory() as scratch, start_nginx(Path(scratch), folder) as server:
        slow = RangeServer(image.read_bytes())
        slow.delay = 0.05
        with serve_ranges(slow) as delayed:
            audit(f"{server.base_url}/gpt.qcow2", SIZES[0])  # warm-up: imports and the page cache
            for size in SIZES:
                fetched, requests, local = audit(f"{server.base_url}/gpt.qcow2", size)
                _, _, far = audit(f"{delayed.base_url}/gpt.qcow2", size)
                rows.append((size, fetched, requests, local, far))
    print(f"{dt.date.today()}, the 2 GiB Debian disk as qcow2 ({image.stat().st_size >> 20} MiB file)\n")
    print("| block | fetched | % of 2 GiB | requests | nginx on 127.0.0.1 | +50 ms a request |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size, fetched, requests, local, far in rows:
        share = 100 * fetched / (2 << 30)
        print(
            f"| {size >> 10} KiB | {fetched / (1 << 20):.1f} MiB | {share:.2f}% | {requests} |"
            f" {local:.2f} s | {far:.2f} s |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
