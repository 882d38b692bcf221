"""Build or extend the advisory database from OSV JSON: files, directories, or OSV's ``all.zip`` archives.

The database is never modified in place: the current file (if any) is copied to a temporary file in the
same directory, records are added there, and the result replaces the original with one atomic rename.
An interrupted or failed import leaves the previous database exactly as it was, and no temporary file
(the CLI turns SIGTERM into the same unwinding as Ctrl-C). A malformed record, of any shape, is skipped,
counted and named by where it was found (file, archive member), never by its content; the rest imports.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from imagevet.errors import ImagevetError
from imagevet.vuln.db import (
    DROP_INDEXES,
    INDEXES,
    SCHEMA_VERSION,
    TABLES,
    drop_replaced,
    ecosystem_family,
    next_advisory_row,
    record_coverage,
    record_import,
    schema_of,
    store,
)
from imagevet.vuln.osv import Advisory, OsvError, parse_record, read_record

MAX_RECORD_BYTES = 16 * 1024 * 1024
BATCH = 2000  # advisories per executemany (and per progress report)
# The file being built is private until the rename: no rollback journal, no syncs while loading (it is
# synced once, whole, before it replaces anything), a larger page cache for the index builds.
BUILD_PRAGMAS = "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;"


class ImportError_(ImagevetError):
    """An input that cannot be read at all (not a malformed record: those are skipped)."""


@dataclass
class ImportStats:
    records: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)  # every skipped record: where, and why
    families: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)  # what the user must know about the result

    def skip(self, where: str, reason: str) -> None:
        self.skipped += 1
        self.warnings.append(f"{where}: {reason}")


# What zipfile and zlib raise for a damaged archive: a lying central directory (a version or a name it
# cannot read: NotImplementedError, UnicodeDecodeError), a bad CRC or header, deflate data that does not
# inflate.
ZIP_DAMAGE = (
    zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, struct.error, zlib.error
)  # fmt: skip


def _records_from_zip(path: Path, stats: ImportStats) -> Iterator[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_DAMAGE as exc:
        raise ImportError_(f"{path}: not a readable zip archive ({exc})") from exc
    with archive, path.open("rb") as raw:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            if info.file_size > MAX_RECORD_BYTES:
                stats.skip(f"{path}:{info.filename}", "record larger than 16 MiB")
                continue
            try:
                data = _member(raw, info)
            except ZIP_DAMAGE as exc:
                raise ImportError_(f"{path}: corrupt archive member {info.filename} ({exc})") from exc
            yield f"{path.name}:{info.filename}", data


_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, then (after 22 bytes) name and extra lengths


def _member(raw: BinaryIO, info: zipfile.ZipInfo) -> bytes:
    """One member's bytes, read with one seek and one read and inflated in one call: zipfile's own reader
    (a file object per member, reads of 4 KiB) is half of an all.zip's import. The central directory's
    sizes and CRC are checked as zipfile checks them, and no more than the declared size is inflated."""
    if info.flag_bits & 0x1:
        raise zipfile.BadZipFile("encrypted member")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise zipfile.BadZipFile(f"compression method {info.compress_type} is not supported")
    if info.compress_size > MAX_RECORD_BYTES + MAX_RECORD_BYTES // 64 + 64:  # deflate's worst case
        raise zipfile.BadZipFile("compressed size larger than its record can be")
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local file header")
    name_length, extra_length = _LOCAL_HEADER.unpack(header)[1:]
    raw.seek(name_length + extra_length, os.SEEK_CUR)
    stored = raw.read(info.compress_size)
    if len(stored) != info.compress_size:
        raise zipfile.BadZipFile("truncated member")
    if info.compress_type == zipfile.ZIP_STORED:
        data = stored
    else:
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        data = inflate.decompress(stored, info.file_size + 1)
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile("size or CRC does not match the central directory")
    return data


def iter_inputs(paths: list[Path], stats: ImportStats) -> Iterator[tuple[str, bytes]]:
    for path in paths:
        if path.is_dir():
            for file in sorted(path.rglob("*.json")):
                if file.is_file():
                    yield from _record_file(file, stats)
        elif path.suffix == ".zip":
            yield from _records_from_zip(path, stats)
        elif path.is_file():
            yield from _record_file(path, stats)
        else:
            raise ImportError_(f"{path}: no such file or directory")


def _record_file(path: Path, stats: ImportStats) -> Iterator[tuple[str, bytes]]:
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:
            stats.skip(str(path), "record larger than 16 MiB")
            return
        data = path.read_bytes()
    except OSError as exc:
        raise ImportError_(f"{path}: cannot be read ({exc.strerror})") from exc
    yield str(path), data


def parse_inputs(inputs: Iterator[tuple[str, bytes]], stats: ImportStats) -> Iterator[Advisory]:
    for where, data in inputs:
        try:
            advisory = parse_record(*read_record(data))
        except OsvError as exc:
            stats.skip(where, str(exc))
            continue
        stats.records += 1
        stats.families.update(ecosystem_family(a.ecosystem) for a in advisory.affected)
        yield advisory


def _keep_older(database: Path, schema: str | None) -> Path:
    """Keep an older-schema database under a new name (a hard link: no copy, and the rename that follows
    cannot lose it): a rebuild holds only the ecosystems of its inputs, and what the user had is never
    destroyed."""
    for number in range(1000):
        suffix = f".schema{schema}.bak" + (f".{number}" if number else "")
        kept = database.with_name(database.name + suffix)
        try:
            os.link(database, kept)
        except FileExistsError:
            continue
        except OSError:  # no hard links here: a copy, into a name nothing holds yet
            try:
                with database.open("rb") as source, kept.open("xb") as copy:
                    shutil.copyfileobj(source, copy)
            except FileExistsError:
                continue
            except OSError as exc:
                kept.unlink(missing_ok=True)
                why = f"cannot keep the older database as {kept.name}: {exc.strerror}"
                raise ImportError_(f"{database}: {why}") from None
        return kept
    raise ImportError_(f"{database}: too many kept older databases beside it; remove some")


def import_into(
    database: Path,
    inputs: Iterator[tuple[str, bytes]],
    source: str,
    imported: str,
    progress: Callable[[int], None] | None = None,
    replace_families: bool = False,
    whole_archive: bool = False,
    stats: ImportStats | None = None,
) -> ImportStats:
    """Add the records of ``inputs`` to ``database`` (created if missing), atomically.

    With ``replace_families``, advisories of the ecosystems being imported are dropped first, so that a
    whole-ecosystem update also removes records OSV no longer publishes. ``whole_archive`` says the inputs
    are complete per-ecosystem archives (OSV's all.zip): only then is an ecosystem's coverage "complete"
    and its freshness dated from this import. ``stats`` is the object ``iter_inputs`` counted into (so
    skips at both stages add up). Nothing valid in the inputs is an error and changes nothing: an empty
    or wholly malformed feed must not stand in for an update.
    """
    if database.is_symlink():
        database = Path(os.path.realpath(database))  # replace what the link points at, keep the link
    if database.exists() and not database.is_file():
        raise ImportError_(f"{database}: not a regular file; the advisory database must be one")
    existing = schema_of(database) if database.exists() else None  # refuse what is not ours
    database.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{database.name}.", dir=database.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    stats = stats if stats is not None else ImportStats()
    try:
        if existing == SCHEMA_VERSION:
            shutil.copyfile(database, tmp)
        if existing is not None:
            shutil.copymode(database, tmp)
        else:
            tmp.chmod(0o644 & ~_umask())
        connection = _open_build(tmp)
        try:
            _load(connection, inputs, stats, replace_families, progress)
            if stats.records == 0:
                why = (
                    f"all {stats.skipped} input record(s) were malformed"
                    if stats.skipped
                    else "no OSV record found"
                )
                raise ImportError_(f"nothing imported: {why}; {database} is unchanged")
            connection.executescript(INDEXES)
            for family in sorted(stats.families):
                record_import(connection, family, source, imported)
                record_coverage(connection, family, source, imported, whole_archive)
            connection.commit()
        except sqlite3.Error as exc:
            raise ImportError_(f"{database}: the import failed ({exc}); the database is unchanged") from exc
        finally:
            connection.close()
        _sync(tmp)
        kept = _keep_older(database, existing) if existing not in (None, SCHEMA_VERSION) else None
        os.replace(tmp, database)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if kept is not None:
        stats.notes.append(
            f"{database} had the older schema version {existing}: it was rebuilt from these inputs alone, "
            f"and the old file is kept as {kept}; import again the ecosystems it held that these inputs lack"
        )
    return stats


def _open_build(path: Path) -> sqlite3.Connection:
    """The file being built, with every table and no secondary index (they are built after the load)."""
    connection = sqlite3.connect(str(path))
    connection.executescript(BUILD_PRAGMAS + TABLES + DROP_INDEXES)
    connection.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    return connection


def _load(
    connection: sqlite3.Connection,
    inputs: Iterator[tuple[str, bytes]],
    stats: ImportStats,
    replace_families: bool,
    progress: Callable[[int], None] | None,
) -> None:
    """Parse every record once and insert them in batches, in the one transaction the caller commits."""
    advisories = list(parse_inputs(inputs, stats)) if replace_families else parse_inputs(inputs, stats)
    # Numbered before any advisory is dropped: a dropped advisory's number must never be given to a new
    # one, or the dropped one's affected rows (removed by drop_replaced only at the end) would join it.
    row = next_advisory_row(connection)
    if replace_families:
        for family in stats.families:
            _drop_family(connection, family)
    batch: list[Advisory] = []
    for advisory in advisories:
        batch.append(advisory)
        if len(batch) >= BATCH:
            row += store(connection, batch, row)
            batch.clear()
            if progress is not None:
                progress(stats.records)
    store(connection, batch, row)
    drop_replaced(connection)  # the rows of advisories replaced by id, or dropped with their family


def _sync(path: Path) -> None:
    """Flush the built file to disk before it replaces the database (the load itself never syncs)."""
    with path.open("rb+") as file:
        os.fsync(file.fileno())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _drop_family(connection: sqlite3.Connection, family: str) -> None:
    """Drop every advisory naming an ecosystem of ``family``; drop_replaced then removes their rows."""
    connection.execute(
        "DELETE FROM advisories WHERE row IN "
        "(SELECT advisory FROM affected WHERE ecosystem = ? OR ecosystem LIKE ?)",
        (family, f"{family}:%"),
    )
