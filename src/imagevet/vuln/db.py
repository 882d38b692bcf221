"""The advisory database: one SQLite file, built elsewhere and swapped in atomically.

Tables: ``advisories`` (one row per OSV record), ``affected`` (one row per affected package entry, indexed
by ecosystem and package name: the only lookup matching needs), ``imports`` (per OSV archive family such
as ``Debian``: records, import time and source), ``coverage`` (per ecosystem such as ``Debian:12``: records,
when and from where they were last imported, and when a whole-ecosystem archive last was; the data
vuln/coverage.py judges), ``meta`` (schema version, last update).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from imagevet.errors import ImagevetError
from imagevet.vuln.coverage import EcosystemCoverage
from imagevet.vuln.osv import Advisory, Affected

SCHEMA_VERSION = "2"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS advisories (
    id TEXT PRIMARY KEY, modified TEXT, withdrawn TEXT, summary TEXT, aliases TEXT NOT NULL,
    severity TEXT NOT NULL, score REAL
);
CREATE TABLE IF NOT EXISTS affected (
    advisory_id TEXT NOT NULL, ecosystem TEXT NOT NULL, package TEXT NOT NULL,
    ranges TEXT NOT NULL, versions TEXT NOT NULL, severity TEXT
);
CREATE INDEX IF NOT EXISTS affected_lookup ON affected (ecosystem, package);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory_id);
CREATE TABLE IF NOT EXISTS imports (
    ecosystem TEXT PRIMARY KEY, records INTEGER NOT NULL, imported TEXT NOT NULL, source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS coverage (
    ecosystem TEXT PRIMARY KEY, family TEXT NOT NULL, records INTEGER NOT NULL, imported TEXT NOT NULL,
    source TEXT NOT NULL, archive_imported TEXT, archive_source TEXT
);
"""


class DatabaseError(ImagevetError):
    """The advisory database is missing, unreadable or not ours."""


@dataclass(frozen=True)
class EcosystemStatus:
    ecosystem: str
    records: int
    imported: str
    source: str
    newest: str  # the newest "modified" among its records


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


def open_writable(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(str(path))
    connection.executescript(SCHEMA)
    connection.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    return connection


def schema_of(path: Path) -> str:
    """The schema version of an existing imagevet database; DatabaseError for any other file."""
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path} is not an imagevet advisory database ({exc}); not touching it") from exc
    if row is None or row[0] not in ("1", SCHEMA_VERSION):
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
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path} is not an imagevet advisory database: {exc}") from exc
    if row is None or row[0] != SCHEMA_VERSION:
        connection.close()
        found = "an older" if row is not None and row[0] == "1" else "an unknown"
        raise DatabaseError(
            f"{path} has {found} schema version (it records no per-ecosystem coverage); "
            "rebuild it with 'imagevet db update' or 'imagevet db import'"
        )
    return connection


def store(connection: sqlite3.Connection, advisories: Iterable[Advisory]) -> int:
    """Insert or replace advisories (with their affected rows); returns how many were stored."""
    count = 0
    cursor = connection.cursor()
    for advisory in advisories:
        cursor.execute("DELETE FROM affected WHERE advisory_id = ?", (advisory.id,))
        cursor.execute(
            "INSERT OR REPLACE INTO advisories VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                advisory.id,
                advisory.modified,
                advisory.withdrawn,
                advisory.summary,
                json.dumps(advisory.aliases),
                advisory.severity,
                advisory.score,
            ),
        )
        cursor.executemany(
            "INSERT INTO affected VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    advisory.id,
                    a.ecosystem,
                    a.package,
                    json.dumps(a.ranges),
                    json.dumps(a.versions),
                    a.severity,
                )
                for a in advisory.affected
            ],
        )
        count += 1
    return count


def record_coverage(
    connection: sqlite3.Connection, family: str, source: str, imported: str, whole_archive: bool
) -> None:
    """Recount every ecosystem of ``family`` after an import; a whole-archive import also stamps
    ``archive_imported``, the time freshness is judged by. Ecosystems left with no record are dropped."""
    counts = connection.execute(
        "SELECT ecosystem, COUNT(DISTINCT advisory_id) FROM affected WHERE ecosystem = ? OR ecosystem LIKE ? "
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
        "SELECT COUNT(DISTINCT advisory_id) FROM affected WHERE ecosystem = ? OR ecosystem LIKE ?",
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
    (the matcher decides)."""
    names = sorted(set(packages))
    for ecosystem in ecosystems:
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = connection.execute(
                "SELECT a.id, a.modified, a.withdrawn, a.summary, a.aliases, a.severity, a.score, "
                "f.ecosystem, f.package, f.ranges, f.versions, f.severity "
                f"FROM affected f JOIN advisories a ON a.id = f.advisory_id "
                f"WHERE f.ecosystem = ? AND f.package IN ({marks})",
                (ecosystem, *chunk),
            )
            for row in rows:
                affected = Affected(
                    row[7],
                    row[8],
                    tuple(tuple(tuple(e) for e in r) for r in json.loads(row[9])),
                    tuple(json.loads(row[10])),
                    row[11],
                )
                yield (
                    Advisory(
                        row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), row[5], row[6], (affected,)
                    ),
                    affected,
                )


def status(path: Path) -> DatabaseStatus:
    connection = open_readonly(path)
    try:
        updated = connection.execute("SELECT value FROM meta WHERE key = 'updated'").fetchone()
        total = connection.execute("SELECT COUNT(*) FROM advisories").fetchone()[0]
        rows = connection.execute(
            "SELECT ecosystem, records, imported, source FROM imports ORDER BY ecosystem"
        )
        ecosystems = []
        for family, records, imported, source in rows.fetchall():
            newest = connection.execute(
                "SELECT MAX(a.modified) FROM advisories a JOIN affected f ON f.advisory_id = a.id "
                "WHERE f.ecosystem = ? OR f.ecosystem LIKE ?",
                (family, f"{family}:%"),
            ).fetchone()[0]
            ecosystems.append(EcosystemStatus(family, records, imported, source, newest or ""))
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
        self.status = status(path)
        self._local = threading.local()

    @property
    def coverage(self) -> dict[str, EcosystemCoverage]:
        return self.status.coverage

    def __call__(self, ecosystems: tuple[str, ...], names: Iterable[str]) -> list[tuple[Advisory, Affected]]:
        if not hasattr(self._local, "connection"):
            self._local.connection = open_readonly(self.path)
        try:
            return list(lookup(self._local.connection, ecosystems, names))
        except sqlite3.Error as exc:
            raise DatabaseError(f"{self.path}: the advisory database cannot be read ({exc})") from exc


def thread_lookup(path: Path) -> AdvisoryDatabase:
    """The lookup the matcher and the service's jobs use (see AdvisoryDatabase)."""
    return AdvisoryDatabase(path)
