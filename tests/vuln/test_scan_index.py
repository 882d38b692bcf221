"""The index a scan reads the affected entries through (db.INDEXES ``affected_entries``: ecosystem, package,
kind, bound, then the text of the hit an entry of the usual shape makes), which lets the scan judge the
entries an installed version is not in, and make the hits of the rest, without reading their rows or their
advisories'; a database imported before
it (with ``affected_lookup`` on ecosystem and package) scans the same, and the next import into it replaces
the old index.

The database: the real importer over records of the usual Debian shape (``introduced 0, fixed F``), so
each entry is kept as one bound in its own row (entries.ENTRY_BELOW)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from imagevet.model import Package
from imagevet.vuln import db, ranged
from imagevet.vuln.ecosystem import Ecosystems
from imagevet.vuln.importer import import_into
from imagevet.vuln.matcher import match_packages
from tests.support.advisories import fresh_stamp

DEBIAN = Ecosystems(("Debian:12",), True, "deb")
INSTALLED = [
    Package("libalpha1", "1.5-1", "amd64", "alpha", "1.5-1"),
    Package("beta", "3.0-1", "amd64", "beta", "3.0-1"),
]


def record(number: int, package: str, fixed: str) -> tuple[str, bytes]:
    data = {
        "id": f"DEBIAN-CVE-2026-{number:04d}",
        "modified": "2026-01-01T00:00:00Z",
        "aliases": [f"CVE-2026-{number:04d}"],
        "summary": f"advisory {number}",
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
    }
    return f"{number}.json", json.dumps(data).encode()


# alpha 1.5-1 is below the fixes of 1 and 3 (hits) and above that of 2; beta 3.0-1 above both of its own.
RECORDS = [record(1, "alpha", "2.0-1"), record(2, "alpha", "1.0-1"), record(3, "alpha", "1.5-2"),
           record(4, "beta", "2.0-1"), record(5, "beta", "3.0-0")]  # fmt: skip


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "osv.sqlite3"
    import_into(path, iter(RECORDS), "test", fresh_stamp())
    return path


def found(database: Path) -> list[tuple[str, str, str | None]]:
    findings, warnings = match_packages(INSTALLED, DEBIAN, db.AdvisoryDatabase(database))
    assert not warnings
    return [(f.id, f.package, f.fixed) for f in findings]


EXPECTED = [("DEBIAN-CVE-2026-0001", "libalpha1", "2.0-1"), ("DEBIAN-CVE-2026-0003", "libalpha1", "1.5-2")]


def indexes(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        return {name for (name,) in rows}


def plan(database: Path, query: str, parameters: tuple[object, ...]) -> str:
    with sqlite3.connect(database) as connection:
        return " | ".join(row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + query, parameters))


def test_an_import_builds_the_covering_index_and_the_scan_finds_the_hits(database: Path) -> None:
    assert indexes(database) == {"affected_entries", "affected_advisory", "spans_lookup"}
    assert sorted(found(database)) == EXPECTED


def test_the_entries_a_version_is_not_in_are_judged_from_the_index(database: Path) -> None:
    """The bound query walks the index and reads no entry's row, even for what it returns (the index holds
    what a hit takes from its entry); the query for entries said to have spans but without any never reads
    a row either."""
    pairs = [("alpha", "x", 0), ("alpha", "x", 1)]
    below = ranged._BELOW.format(pairs=",".join(["(?, ?, ?)"] * len(pairs)))
    values = (*[value for pair in pairs for value in pair], "Debian:12")
    assert "USING COVERING INDEX affected_entries" in plan(database, below, values)
    spanless = ranged._SPANLESS.format(marks="?")
    assert "USING COVERING INDEX affected_entries" in plan(database, spanless, ("Debian:12", "alpha"))


def test_a_database_imported_before_the_index_scans_the_same_and_is_reindexed(database: Path) -> None:
    with sqlite3.connect(database) as connection:
        connection.executescript(
            "DROP INDEX affected_entries; CREATE INDEX affected_lookup ON affected (ecosystem, package);"
        )
    assert indexes(database) == {"affected_lookup", "affected_advisory", "spans_lookup"}
    assert sorted(found(database)) == EXPECTED
    import_into(database, iter([record(6, "gamma", "1.0-1")]), "test", fresh_stamp())
    assert indexes(database) == {"affected_entries", "affected_advisory", "spans_lookup"}
    assert sorted(found(database)) == EXPECTED


def test_a_hit_is_read_from_the_index_alone(database: Path) -> None:
    """Neither the entry's row nor its advisory's is read for a hit (the index holds its text,
    stored.encode_hit): without the advisories the scan finds the same, and with the hit texts damaged the
    scan stops."""
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM advisories")
        connection.execute("UPDATE affected SET ranges = 'x', severity = 'severe'")
    assert sorted(found(database)) == EXPECTED
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE affected SET hit = 'x' WHERE package = 'alpha'")
    with pytest.raises(db.DatabaseError, match="damaged"):
        found(database)


def test_an_entry_the_version_is_above_is_no_finding_whatever_its_hit_holds(database: Path) -> None:
    """Judged from its bound alone: its hit text is never looked at."""
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE affected SET hit = 'x' WHERE package = 'beta'")  # beta: no hit
    assert sorted(found(database)) == EXPECTED
