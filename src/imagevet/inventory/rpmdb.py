"""The three rpmdb backends, reading header blobs without librpm.

- SQLite ``rpmdb.sqlite`` (RHEL 9, Fedora 33+, Amazon Linux 2023): table ``Packages(hnum, blob)``, opened
  read-only and immutable so that nothing is written next to the image's file.
- Berkeley DB hash ``Packages`` (EL7/EL8, Amazon Linux 2): values live on overflow-page chains.
- NDB ``Packages.db`` (SUSE): a slot table pointing at blob records.

Every structure read from the file is bounds-checked and every page chain has a visit limit, so a
truncated or hostile database fails with a message naming the file, never a hang.
"""

from __future__ import annotations

import sqlite3
import struct
import urllib.parse
from collections.abc import Iterator

from imagevet.inventory.rpmheader import RpmHeader, parse_header

# ---- Berkeley DB hash (db_page.h / dbmeta layout, as documented by Oracle Berkeley DB) ----
BDB_HASH_MAGIC = 0x061561
BDB_PAGE_HEADER = 26
P_HASH_UNSORTED, P_OVERFLOW, P_HASH = 2, 7, 13
H_OFFPAGE = 3

# ---- NDB (rpm's lib/backend/ndb) ----
NDB_MAGIC = b"RpmP"
NDB_SLOT_MAGIC = b"Slot"
NDB_BLOB_MAGIC = b"BlbS"
NDB_PAGE = 4096
NDB_SLOT = 16
NDB_BLOCK = 16


class RpmdbError(ValueError):
    """The database is truncated, corrupt or not what its name says."""


def read_sqlite(host_path: str) -> Iterator[RpmHeader]:
    uri = f"file:{urllib.parse.quote(host_path)}?mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise RpmdbError(f"cannot open as SQLite: {exc}") from exc
    try:
        rows = connection.execute("SELECT blob FROM Packages ORDER BY hnum").fetchall()
    except sqlite3.Error as exc:
        raise RpmdbError(f"not a readable rpm SQLite database: {exc}") from exc
    finally:
        connection.close()
    for (blob,) in rows:
        if not isinstance(blob, bytes):
            raise RpmdbError("a Packages row holds no header blob")
        yield _header(blob)


def _header(blob: bytes) -> RpmHeader:
    try:
        return parse_header(blob)
    except (ValueError, struct.error) as exc:
        raise RpmdbError(f"corrupt package header: {exc}") from exc


def read_bdb(data: bytes) -> Iterator[RpmHeader]:
    if len(data) < 512:
        raise RpmdbError("too short for a Berkeley DB file")
    order = "<" if struct.unpack_from("<I", data, 12)[0] == BDB_HASH_MAGIC else ">"
    if struct.unpack_from(order + "I", data, 12)[0] != BDB_HASH_MAGIC:
        raise RpmdbError("not a Berkeley DB hash database (bad magic)")
    page_size = struct.unpack_from(order + "I", data, 20)[0]
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise RpmdbError(f"implausible page size {page_size}")
    pages = len(data) // page_size

    def page(number: int) -> bytes:
        if not 0 < number < pages:
            raise RpmdbError(f"page {number} is outside the file ({pages} pages)")
        return data[number * page_size : (number + 1) * page_size]

    for number in range(1, pages):
        current = page(number)
        if current[25] not in (P_HASH, P_HASH_UNSORTED):
            continue
        entries = struct.unpack_from(order + "H", current, 20)[0]
        if BDB_PAGE_HEADER + 2 * entries > page_size:
            raise RpmdbError(f"page {number}: entry count {entries} does not fit the page")
        offsets = struct.unpack_from(f"{order}{entries}H", current, BDB_PAGE_HEADER)
        for value_offset in offsets[1::2]:  # items alternate key, value
            if value_offset + 12 > page_size or current[value_offset] != H_OFFPAGE:
                continue
            first, total = struct.unpack_from(order + "II", current, value_offset + 4)
            yield _header(_overflow_chain(page, first, total, order, pages))


def _overflow_chain(page: object, first: int, total: int, order: str, pages: int) -> bytes:
    assert callable(page)
    chunks: list[bytes] = []
    size = 0
    number, visited = first, 0
    while number and size < total:
        visited += 1
        if visited > pages:
            raise RpmdbError("overflow page chain loops")
        current = page(number)
        if current[25] != P_OVERFLOW:
            raise RpmdbError(f"page {number} should be an overflow page")
        used = struct.unpack_from(order + "H", current, 22)[0]
        if BDB_PAGE_HEADER + used > len(current):
            raise RpmdbError(f"page {number}: overflow length {used} does not fit the page")
        chunks.append(current[BDB_PAGE_HEADER : BDB_PAGE_HEADER + used])
        size += used
        number = struct.unpack_from(order + "I", current, 16)[0]
    if size < total:
        raise RpmdbError(f"overflow chain ends after {size} of {total} bytes (truncated?)")
    return b"".join(chunks)[:total]


def read_ndb(data: bytes) -> Iterator[RpmHeader]:
    if len(data) < 32 or data[:4] != NDB_MAGIC:
        raise RpmdbError("not an rpm NDB database (bad magic)")
    slot_pages = struct.unpack_from("<I", data, 12)[0]
    slot_area = slot_pages * NDB_PAGE
    if slot_pages == 0 or slot_area > len(data):
        raise RpmdbError(f"slot table of {slot_pages} pages does not fit the file")
    for offset in range(32, slot_area, NDB_SLOT):
        magic = data[offset : offset + 4]
        if magic != NDB_SLOT_MAGIC:
            raise RpmdbError(f"slot at byte {offset} has a bad magic")
        package, block, blocks = struct.unpack_from("<III", data, offset + 4)
        if package == 0:
            continue
        start = block * NDB_BLOCK
        if start + 16 > len(data) or data[start : start + 4] != NDB_BLOB_MAGIC:
            raise RpmdbError(f"package {package}: blob at byte {start} is missing or damaged")
        owner, _generation, length = struct.unpack_from("<III", data, start + 4)
        if owner != package or start + 16 + length > len(data) or length > blocks * NDB_BLOCK:
            raise RpmdbError(f"package {package}: blob header does not match its slot")
        yield _header(data[start + 16 : start + 16 + length])
