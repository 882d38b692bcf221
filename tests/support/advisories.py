"""Advisory databases for tests, made the way a user makes them: `imagevet db import` of OSV records.

The project's own OSV fixtures (tests/fixtures/osv, hand-written to the OSV 1.6 schema) cover Debian:12, the
ecosystem of the hardened-debian fixture root. A database's age is then moved with the real sqlite3 module
(an UPDATE of its coverage row), which is how a stale database is made without waiting five days.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import zipfile
from pathlib import Path

from tests.conftest import FIXTURES
from tests.support.cli import run_imagevet

RECORDS = FIXTURES / "osv"


def debian_image_with(destination: Path, *stanzas: tuple[str, str, str]) -> Path:
    """A copy of the hardened-debian fixture root whose dpkg status also lists these installed binary
    packages, each (package, source, version) for amd64: the versions advisories are matched against."""
    shutil.copytree(FIXTURES / "rootfs/hardened-debian", destination, symlinks=True)
    status = destination / "var/lib/dpkg/status"
    added = "".join(
        f"\nPackage: {package}\nStatus: install ok installed\nArchitecture: amd64\nSource: {source}\n"
        f"Version: {version}\n"
        for package, source, version in stanzas
    )
    status.write_text(status.read_text() + added)
    return destination


def import_records(database: Path, *inputs: Path) -> None:
    """`imagevet db import INPUTS --db DATABASE` (the fixture records by default); it must succeed."""
    proc = run_imagevet("db", "import", *(str(p) for p in inputs or (RECORDS,)), "--db", str(database))
    assert proc.returncode == 0, proc.stderr


def archive_of(folder: Path, destination: Path) -> Path:
    """An OSV-style all.zip of every record in ``folder`` (what `db update` downloads)."""
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in sorted(folder.glob("*.json")):
            archive.write(record, record.name)
    return destination


def age_ecosystem(database: Path, ecosystem: str, stamp: str) -> None:
    """Pretend ``ecosystem`` was last imported at ``stamp`` (UTC, YYYY-MM-DDTHH:MM:SSZ)."""
    with sqlite3.connect(database) as connection:
        changed = connection.execute(
            "UPDATE coverage SET imported = ?, archive_imported = CASE WHEN archive_imported IS NULL "
            "THEN NULL ELSE ? END WHERE ecosystem = ?",
            (stamp, stamp, ecosystem),
        ).rowcount
    assert changed == 1, f"{database} has no coverage row for {ecosystem}"


def fresh_stamp() -> str:
    """Now, as the database records import times: databases made by tests must be fresh whenever the
    suite runs (a fixed date would turn stale, and every coverage check undecided, five days later)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
