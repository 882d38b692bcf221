"""The three rpmdb backends, reading header blobs without librpm.

- SQLite ``rpmdb.sqlite`` (RHEL 9, Fedora 33+, Amazon Linux 2023): table ``Packages(hnum, blob)``, read
  from a private copy together with its ``-wal`` (see read_sqlite), so nothing is written beside the
  image's file and what only the write-ahead log holds is seen.
- Berkeley DB hash ``Packages`` (EL7/EL8, Amazon Linux 2): values live on overflow-page chains.
- NDB ``Packages.db`` (SUSE): a slot table pointing at blob records.

Every structure read from the file is bounds-checked and every page chain has a visit limit, so a
truncated or hostile database fails with a message naming the file, never a hang.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import tempfile
import time
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
MAX_SQLITE_VALUE = 64 * 1024 * 1024  # no rpm header comes near this


class RpmdbError(ValueError):
    """The database is truncated, corrupt or not what its name says."""


def read_sqlite(database: bytes, wal: bytes | None = None, budget_seconds: float = 10.0) -> list[RpmHeader]:
    """Headers from an rpm SQLite database, with its write-ahead log when the image has one.

    SQLite replays a WAL only in a directory it may write (for the ``-shm`` index), so the database and
    its WAL are copied into a private temporary directory and that copy is opened: nothing is ever
    written next to the image's files, and rows committed only to the WAL (rpm was interrupted, or
    the image was captured while rpm had the database open) are seen, as rpm itself sees them.

    The file comes from the image, so it is distrusted: ``Packages`` must be a plain table (a view
    could loop forever, a virtual table run a module), functions from the schema are not trusted, a
    value longer than 64 MiB is refused, the structure is checked (``quick_check``), and the whole read
    is aborted after ``budget_seconds``.
    """
    with tempfile.TemporaryDirectory(prefix="imagevet-rpmdb-") as scratch:
        path = os.path.join(scratch, "rpmdb.sqlite")
        with open(path, "wb") as handle:
            handle.write(database)
        if wal is not None:
            with open(path + "-wal", "wb") as handle:
                handle.write(wal)
        return _query(path, budget_seconds)


def _query(path: str, budget_seconds: float) -> list[RpmHeader]:
    deadline = time.monotonic() + budget_seconds
    try:
        connection = sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise RpmdbError(f"cannot open as SQLite ({_sqlite_reason(exc)})") from None
    try:
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_SQLITE_VALUE)
        connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        connection.execute("PRAGMA trusted_schema = OFF")
        kind = connection.execute(
            "SELECT type, sql FROM sqlite_master WHERE lower(name) = 'packages'"
        ).fetchall()
        if not kind:
            raise RpmdbError("not an rpm database (no Packages table)")
        if (
            len(kind) != 1
            or kind[0][0] != "table"
            or not str(kind[0][1] or "").upper().startswith("CREATE TABLE")
        ):
            raise RpmdbError("Packages is not a plain table (a view or virtual table: refused)")
        problems = [row[0] for row in connection.execute("PRAGMA quick_check").fetchmany(2)]
        if problems != ["ok"]:
            raise RpmdbError("the SQLite structure is corrupt (quick_check failed)")
        rows = connection.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
    except sqlite3.Error as exc:
        if time.monotonic() > deadline:
            raise RpmdbError(
                f"reading took longer than {budget_seconds:g} s (hostile or absurd database)"
            ) from None
        raise RpmdbError(f"not a readable rpm SQLite database ({_sqlite_reason(exc)})") from None
    except UnicodeDecodeError:  # a schema or text value that is not UTF-8: corrupt (its bytes not shown)
        raise RpmdbError("not a readable rpm SQLite database (text that is not UTF-8)") from None
    finally:
        connection.close()
    headers = []
    for index, (_hnum, blob) in enumerate(rows):
        if not isinstance(blob, bytes):
            raise RpmdbError(f"Packages row #{index + 1} holds no header blob")
        headers.append(_header(blob, f"Packages row #{index + 1}"))
    return headers


def _sqlite_reason(exc: sqlite3.Error) -> str:
    """SQLite's own messages never quote file content, but keep only the first, known-safe words."""
    text = str(exc)
    return text if text.isascii() and text.isprintable() and len(text) < 120 else type(exc).__name__


def _header(blob: bytes, where: str) -> RpmHeader:
    try:
        return parse_header(blob)
    except (ValueError, struct.error) as exc:
        raise RpmdbError(f"{where}: corrupt package header: {exc}") from None


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
    last_page = struct.unpack_from(order + "I", data, 32)[0]  # DBMETA.last_pgno
    if last_page + 1 > pages or len(data) % page_size:
        raise RpmdbError(f"the file ends before its last page ({pages} of {last_page + 1} pages: truncated?)")

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
            yield _header(_overflow_chain(page, first, total, order, pages), f"page {number}")


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
        yield _header(data[start + 16 : start + 16 + length], f"package {package}")
