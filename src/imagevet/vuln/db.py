"""The advisory database: one SQLite file, built elsewhere and swapped in atomically.

Tables: ``advisories`` (one row per OSV record, numbered by ``row``), ``affected`` (one row per affected
package entry, numbered by ``id``, pointing at its advisory's row, with its ranges and versions in the ready
form of stored.py; indexed by ecosystem and package name; ``spanned`` says how it is matched, entries.py:
by the matcher, through its spans, or as every version below its ``below`` key), ``spans`` (the other
Debian-scheme entries as intervals of version keys, spans.py; ranged.py lets the database find the entries
an installed version lies in), ``imports`` (per OSV
archive family such as ``Debian``: records, import time and source), ``coverage`` (per ecosystem such as
``Debian:12``: records, when and from where they were last imported, and when a whole-ecosystem archive
last was; the data vuln/coverage.py judges), ``meta`` (schema version, last update).
"""

from __future__ import annotations

import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from imagevet.errors import ImagevetError
from imagevet.vuln.coverage import EcosystemCoverage
from imagevet.vuln.entries import (
    ENTRY_BELOW,
    ENTRY_JUDGED,
    ENTRY_SPANNED,
    DamagedRecord,
    numbered_entries,
)
from imagevet.vuln.osv import Advisory, Affected
from imagevet.vuln.spans import spans_of, usual_below
from imagevet.vuln.stored import encode_hit, encode_ranges, encode_texts, ordered_for

if TYPE_CHECKING:
    from imagevet.vuln.matcher import Hit, Judged

_T = TypeVar("_T")

SCHEMA_VERSION = "5"
# Refused by every reader; an import rebuilds such a database from its inputs (5: the hit text, stored.py).
OLDER_SCHEMAS = ("1", "2", "3", "4")
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS advisories (
    row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, modified TEXT, withdrawn TEXT, summary TEXT,
    aliases TEXT NOT NULL, severity TEXT NOT NULL, score REAL
);
CREATE TABLE IF NOT EXISTS affected (
    id INTEGER PRIMARY KEY, advisory INTEGER NOT NULL, ecosystem TEXT NOT NULL, package TEXT NOT NULL,
    ranges TEXT NOT NULL, ordered TEXT, sorted_for TEXT NOT NULL, versions TEXT NOT NULL, severity TEXT,
    spanned INTEGER NOT NULL, below TEXT, hit TEXT
);
CREATE TABLE IF NOT EXISTS spans (
    ecosystem TEXT NOT NULL, package TEXT NOT NULL, entry INTEGER NOT NULL, what INTEGER NOT NULL,
    lo TEXT NOT NULL, hi TEXT, fix TEXT, matched TEXT, advisory INTEGER NOT NULL, severity TEXT
);
CREATE TABLE IF NOT EXISTS imports (
    ecosystem TEXT PRIMARY KEY, records INTEGER NOT NULL, imported TEXT NOT NULL, source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS coverage (
    ecosystem TEXT PRIMARY KEY, family TEXT NOT NULL, records INTEGER NOT NULL, imported TEXT NOT NULL,
    source TEXT NOT NULL, archive_imported TEXT, archive_source TEXT
);
"""
# Built after a bulk load (importer.py drops them first): one sort instead of 200,000 index updates. (Spans
# kept in a table clustered by package would scan ~0.1 s faster on 1,000 packages, but sorting them into it
# makes an import of 200,000 records ~1.4 s slower than this index does: docs/benchmarks.md.)
# ``affected_entries`` covers what a scan filters on (the kind and bound of each entry) and, for an entry of
# the usual shape, the text of the hit it makes (stored.encode_hit): the entries an installed version is not
# in are judged from the index alone, and a hit is read from it without the entry's row or its advisory's,
# both spread over the file (a scan of 1,000 packages: 19,000 hits among 52,000 entries; the join to the
# advisories and their eight columns were a quarter of that scan, docs/benchmarks.md). The hit's texts are
# kept twice (row and index): the database is about half as large again as without them.
INDEXES = """
CREATE INDEX IF NOT EXISTS affected_entries ON affected (
    ecosystem, package, spanned, below, hit
);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory);
CREATE INDEX IF NOT EXISTS spans_lookup ON spans (ecosystem, package);
"""
SCHEMA = TABLES + INDEXES
DROP_INDEXES = (
    "DROP INDEX IF EXISTS affected_lookup; DROP INDEX IF EXISTS affected_entries; "
    "DROP INDEX IF EXISTS affected_advisory; "
    "DROP INDEX IF EXISTS spans_lookup;"
)


# A scan reads the pages it needs through a memory map rather than a read() each (a fifth of the hits
# query's time, docs/benchmarks.md). Safe here: imagevet never changes a database in place (an import builds
# a copy and renames it over, importer.py), so a mapped file is never shortened under a scan.
READ_PRAGMAS = "PRAGMA mmap_size = 1073741824"


class DatabaseError(ImagevetError):
    """The advisory database is missing, unreadable or not ours."""


@dataclass(frozen=True)
class EcosystemStatus:
    ecosystem: str
    records: int
    imported: str
    source: str
    newest: str  # the newest "modified" among its records ("" where not asked for: status(newest=False))


@dataclass(frozen=True)
class DatabaseStatus:
    path: str
    updated: str | None
    records: int
    ecosystems: tuple[EcosystemStatus, ...]
    size_bytes: int
    coverage: dict[str, EcosystemCoverage]


def ecosystem_family(ecosystem: str) -> str:
    """``Debian:12`` -> ``Debian``, ``Rocky Linux:9`` -> ``Rocky Linux``: the unit of OSV's archives."""
    return ecosystem.split(":", 1)[0]


def schema_of(path: Path) -> str:
    """The schema version of an existing imagevet database (current or older); DatabaseError for any other
    file."""
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path} is not an imagevet advisory database ({exc}); not touching it") from exc
    if row is None or row[0] not in (*OLDER_SCHEMAS, SCHEMA_VERSION):
        raise DatabaseError(f"{path} is not an imagevet advisory database (no known schema version)")
    return str(row[0])


def open_readonly(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise DatabaseError(
            f"no advisory database at {path} (run 'imagevet db update' or 'imagevet db import')"
        )
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        connection.execute(READ_PRAGMAS)
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path} is not an imagevet advisory database: {exc}") from exc
    if row is None or row[0] != SCHEMA_VERSION:
        connection.close()
        found = (
            f"an older schema version ({row[0]})"
            if row is not None and row[0] in OLDER_SCHEMAS
            else ("an unknown schema version")
        )
        raise DatabaseError(
            f"{path} has {found}, which this imagevet cannot match against; re-import it: run "
            "'imagevet db update' (or 'imagevet db import' of OSV's all.zip archives)"
        )
    return connection


def next_advisory_row(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT COALESCE(MAX(row), 0) + 1 FROM advisories").fetchone()[0])


def store(
    connection: sqlite3.Connection, advisories: Iterable[Advisory], first_row: int | None = None
) -> int:
    """Insert or replace advisories with their affected rows, in the ready form (stored.py); returns how
    many were stored. They are numbered from ``first_row`` (default: after the last one): an advisory that
    replaces an earlier one (same id) leaves the earlier one's affected rows pointing at a row that no
    longer exists, and ``drop_replaced`` removes them once, after the load."""
    rows = []
    affected_rows = []
    span_rows = []
    row = next_advisory_row(connection) if first_row is None else first_row
    first = row
    entry = int(connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM affected").fetchone()[0])
    for advisory in advisories:
        texts, withdrawn = (advisory.id, advisory.aliases), bool(advisory.withdrawn)
        rows.append(
            (
                row,
                advisory.id,
                advisory.modified,
                advisory.withdrawn,
                advisory.summary,
                encode_texts(advisory.aliases),
                advisory.severity,
                advisory.score,
            )
        )
        for a in advisory.affected:
            sorted_for, ordered = ordered_for(a.ecosystem, a.ranges)
            below = usual_below(a.ranges, a.versions) if sorted_for == "deb" else None
            spans = spans_of(a.ranges, a.versions) if sorted_for == "deb" and below is None else None
            if spans:
                span_rows.extend([(a.ecosystem, a.package, entry, *span, row, a.severity) for span in spans])
            # an entry without any span (no ECOSYSTEM range, no listed version) matches nothing: judged
            how = ENTRY_BELOW if below is not None else ENTRY_SPANNED if spans else ENTRY_JUDGED
            hit = None
            if below is not None:  # its findings' texts, read by the scan in place of the advisory's row
                own = advisory.severity
                if own == "unknown" and a.severity is not None:
                    own = a.severity
                fix = a.ranges[0][1][1]
                hit = encode_hit(*texts, own, advisory.score, withdrawn, fix, advisory.summary)
            affected_rows.append(
                (
                    entry,
                    row,
                    a.ecosystem,
                    a.package,
                    encode_ranges(a.ranges),
                    ordered,
                    sorted_for,
                    encode_texts(a.versions),
                    a.severity,
                    how,
                    below,
                    hit,
                )
            )
            entry += 1
        row += 1
    connection.executemany("INSERT OR REPLACE INTO advisories VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    connection.executemany("INSERT INTO affected VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", affected_rows)
    connection.executemany("INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", span_rows)
    return row - first


def drop_replaced(connection: sqlite3.Connection) -> None:
    """Delete the affected rows of advisories that were replaced (or removed) during a load."""
    connection.execute("DELETE FROM affected WHERE advisory NOT IN (SELECT row FROM advisories)")
    connection.execute("DELETE FROM spans WHERE entry NOT IN (SELECT id FROM affected)")


def record_coverage(
    connection: sqlite3.Connection, family: str, source: str, imported: str, whole_archive: bool
) -> None:
    """Recount every ecosystem of ``family`` after an import; a whole-archive import also stamps
    ``archive_imported``, the time freshness is judged by. Ecosystems left with no record are dropped."""
    counts = connection.execute(
        "SELECT ecosystem, COUNT(DISTINCT advisory) FROM affected WHERE ecosystem = ? OR ecosystem LIKE ? "
        "GROUP BY ecosystem",
        (family, f"{family}:%"),
    ).fetchall()
    present = {ecosystem for ecosystem, _ in counts}
    for (ecosystem,) in connection.execute(
        "SELECT ecosystem FROM coverage WHERE family = ?", (family,)
    ).fetchall():
        if ecosystem not in present:
            connection.execute("DELETE FROM coverage WHERE ecosystem = ?", (ecosystem,))
    for ecosystem, records in counts:
        previous = connection.execute(
            "SELECT archive_imported, archive_source FROM coverage WHERE ecosystem = ?", (ecosystem,)
        ).fetchone()
        archive = (imported, source) if whole_archive else (previous or (None, None))
        connection.execute(
            "INSERT OR REPLACE INTO coverage VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ecosystem, family, records, imported, source, *archive),
        )


def read_coverage(connection: sqlite3.Connection) -> dict[str, EcosystemCoverage]:
    rows = connection.execute(
        "SELECT ecosystem, records, imported, source, archive_imported, archive_source FROM coverage"
    )
    return {row[0]: EcosystemCoverage(*row) for row in rows.fetchall()}


def record_import(connection: sqlite3.Connection, family: str, source: str, imported: str) -> None:
    records = connection.execute(
        "SELECT COUNT(DISTINCT advisory) FROM affected WHERE ecosystem = ? OR ecosystem LIKE ?",
        (family, f"{family}:%"),
    ).fetchone()[0]
    connection.execute(
        "INSERT OR REPLACE INTO imports VALUES (?, ?, ?, ?)", (family, records, imported, source)
    )
    connection.execute("INSERT OR REPLACE INTO meta VALUES ('updated', ?)", (imported,))


def lookup(
    connection: sqlite3.Connection, ecosystems: tuple[str, ...], packages: Iterable[str]
) -> Iterator[tuple[Advisory, Affected]]:
    """Every (advisory, affected entry) for these package names in these ecosystems; withdrawn ones too
    (the matcher decides). Each advisory is decoded once, however many of the packages it names."""
    advisories: dict[int, Advisory] = {}
    names = sorted(set(packages))
    for ecosystem in ecosystems:
        for _, advisory, affected in numbered_entries(connection, ecosystem, names, advisories):
            yield advisory, affected


def status(path: Path, newest: bool = True) -> DatabaseStatus:
    """What the database holds. ``newest`` (each ecosystem's newest modified record, which `db status`
    shows) scans every affected row (a fifth of a scan of 1,000 packages over 200,000 records), so a scan,
    which never shows it, does not ask."""
    connection = open_readonly(path)
    try:
        updated = connection.execute("SELECT value FROM meta WHERE key = 'updated'").fetchone()
        total = connection.execute("SELECT COUNT(*) FROM advisories").fetchone()[0]
        rows = connection.execute(
            "SELECT ecosystem, records, imported, source FROM imports ORDER BY ecosystem"
        )
        ecosystems = []
        for family, records, imported, source in rows.fetchall():
            latest = None
            if newest:
                latest = connection.execute(
                    "SELECT MAX(a.modified) FROM advisories a JOIN affected f ON f.advisory = a.row "
                    "WHERE f.ecosystem = ? OR f.ecosystem LIKE ?",
                    (family, f"{family}:%"),
                ).fetchone()[0]
            ecosystems.append(EcosystemStatus(family, records, imported, source, latest or ""))
        coverage = read_coverage(connection)
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path}: the advisory database cannot be read ({exc})") from exc
    finally:
        connection.close()
    return DatabaseStatus(
        str(path), updated[0] if updated else None, total, tuple(ecosystems), path.stat().st_size, coverage
    )


class AdvisoryDatabase:
    """The matcher's lookup over a database file, one read-only connection per thread (the CLI's worker
    threads, the service's jobs), with the database's status and per-ecosystem coverage read once at
    opening, so an unusable database fails in the caller and every image is judged against the same data."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.status = status(path, newest=False)
        self._local = threading.local()

    @property
    def coverage(self) -> dict[str, EcosystemCoverage]:
        return self.status.coverage

    def __call__(self, ecosystems: tuple[str, ...], names: Iterable[str]) -> list[tuple[Advisory, Affected]]:
        return self._read(lambda connection: list(lookup(connection, ecosystems, names)))

    def ranged(
        self, ecosystems: tuple[str, ...], keyed: Iterable[tuple[str, str]], whole: Iterable[str]
    ) -> list[Hit | Judged]:
        """ranged.py's lookup: the database finds the entries each installed version key lies in."""
        from imagevet.vuln.ranged import ranged_lookup

        return self._read(lambda connection: list(ranged_lookup(connection, ecosystems, keyed, whole)))

    def _read(self, read: Callable[[sqlite3.Connection], _T]) -> _T:
        if not hasattr(self._local, "connection"):
            self._local.connection = open_readonly(self.path)
        try:
            return read(self._local.connection)
        except sqlite3.Error as exc:
            raise DatabaseError(f"{self.path}: the advisory database cannot be read ({exc})") from exc
        except DamagedRecord as exc:
            raise DatabaseError(
                f"{self.path}: {exc}; rebuild it with 'imagevet db import' or 'imagevet db update'"
            ) from exc


def thread_lookup(path: Path) -> AdvisoryDatabase:
    """The lookup the matcher and the service's jobs use (see AdvisoryDatabase)."""
    return AdvisoryDatabase(path)
