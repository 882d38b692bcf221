"""Advisory coverage is part of the verdict: the database must hold the image's ecosystem and be fresh.

The judgement (vuln/coverage.py) is tested as a pure function, then through the CLI as a user meets it:
databases made with `imagevet db import` (tests/support/advisories.py), aged with an sqlite3 UPDATE.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from imagevet.vuln.coverage import CoveragePolicy, EcosystemCoverage, judge
from tests.conftest import FIXTURES
from tests.support.advisories import RECORDS, age_ecosystem, archive_of, import_records
from tests.support.cli import run_imagevet

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
HARDENED = str(FIXTURES / "rootfs/hardened-debian")
ROCKY = str(FIXTURES / "rootfs/weak-rocky9")


def row(ecosystem: str, imported: str, archive: str | None = None) -> EcosystemCoverage:
    return EcosystemCoverage(ecosystem, 10, imported, "src", archive, "mirror" if archive else None)


def one_line_error(proc: object) -> str:
    stderr = getattr(proc, "stderr", "")
    assert getattr(proc, "returncode", None) == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imagevet: error:"), stderr
    return str(lines[0])


def test_judge_missing_ecosystem_names_it_and_the_fix() -> None:
    verdict = judge(
        ("Debian:12",), {"Debian:11": row("Debian:11", "2026-12-01T00:00:00Z")}, CoveragePolicy(NOW), "db"
    )
    assert not verdict.covered
    assert "no records for Debian:12" in verdict.problem and "it holds: Debian:11" in verdict.problem
    assert "imagevet db update --ecosystem Debian" in verdict.problem
    spaced = judge(("Rocky Linux:9",), {}, CoveragePolicy(NOW), "db")
    assert "--ecosystem 'Rocky Linux'" in spaced.problem and "it holds: nothing" in spaced.problem


def test_judge_freshness_by_the_whole_archive_import() -> None:
    fresh_archive = row("Debian:12", "2026-11-30T00:00:00Z", archive="2026-11-30T00:00:00Z")
    assert judge(("Debian:12",), {"Debian:12": fresh_archive}, CoveragePolicy(NOW), "db").covered
    # A single record imported today does not make an archive of last month fresh.
    topped_up = row("Debian:12", "2026-12-01T00:00:00Z", archive="2026-11-01T00:00:00Z")
    stale = judge(("Debian:12",), {"Debian:12": topped_up}, CoveragePolicy(NOW), "db")
    assert not stale.covered and "30.5 days old" in stale.problem and "--allow-stale-db" in stale.problem
    accepted = judge(("Debian:12",), {"Debian:12": topped_up}, CoveragePolicy(NOW, allow_stale=True), "db")
    assert accepted.covered and "accepted with --allow-stale-db" in accepted.warnings[0]
    wider = judge(("Debian:12",), {"Debian:12": topped_up}, CoveragePolicy(NOW, max_age_days=31), "db")
    assert wider.covered and not wider.warnings


def test_judge_partial_future_and_garbled_times() -> None:
    partial = judge(
        ("Debian:12",), {"Debian:12": row("Debian:12", "2026-12-01T00:00:00Z")}, CoveragePolicy(NOW), "db"
    )
    assert partial.covered and "coverage may be partial" in partial.warnings[0]
    future = judge(
        ("Debian:12",), {"Debian:12": row("Debian:12", "2027-06-01T00:00:00Z")}, CoveragePolicy(NOW), "db"
    )
    assert not future.covered and "in the future" in future.problem
    garbled = judge(("Debian:12",), {"Debian:12": row("Debian:12", "yesterday")}, CoveragePolicy(NOW), "db")
    assert not garbled.covered and "no valid import time" in garbled.problem


def test_judge_ubuntu_pro_is_not_required() -> None:
    coverage = {"Ubuntu:24.04:LTS": row("Ubuntu:24.04:LTS", "2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z")}
    needed = ("Ubuntu:24.04:LTS", "Ubuntu:Pro:24.04:LTS")
    assert judge(needed, coverage, CoveragePolicy(NOW), "db").covered


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "osv.sqlite3"
    import_records(path)
    return path


def test_vuln_refuses_a_database_without_the_image_ecosystem(database: Path) -> None:
    line = one_line_error(run_imagevet("vuln", ROCKY, "--db", str(database)))
    assert "no records for Rocky Linux:9" in line and "it holds: Debian:11, Debian:12" in line


def test_audit_reports_the_missing_ecosystem_as_an_error_that_trips_the_gate(database: Path) -> None:
    args = ("audit", ROCKY, "--checks", "updates-pending-security", "--db", str(database), "-f", "json")
    proc = run_imagevet(*args)
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)["results"][0]
    assert result["status"] == "error" and "no records for Rocky Linux:9" in result["evidence"][0]["detail"]
    assert "fail the gate (updates-pending-security)" in proc.stderr
    assert run_imagevet(*args, "--allow-errors").returncode == 0


def test_no_database_at_all_is_an_error_with_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite3"
    proc = run_imagevet(
        "audit", HARDENED, "--checks", "updates-pending-security", "--db", str(missing), "-f", "json"
    )
    assert proc.returncode == 1
    detail = json.loads(proc.stdout)["results"][0]["evidence"][0]["detail"]
    assert f"no advisory database at {missing}" in detail and "imagevet db update" in detail
    assert "no advisory database" in one_line_error(run_imagevet("vuln", HARDENED, "--db", str(missing)))
    assert not missing.exists()


def test_stale_data_is_refused_unless_allowed(database: Path) -> None:
    age_ecosystem(database, "Debian:12", "2026-01-01T00:00:00Z")
    line = one_line_error(run_imagevet("vuln", HARDENED, "--db", str(database)))
    assert "advisories for Debian:12" in line and "older than --max-db-age 5 days" in line
    audit = run_imagevet(
        "audit", HARDENED, "--checks", "updates-pending-security", "--db", str(database), "-f", "json"
    )
    assert audit.returncode == 1 and json.loads(audit.stdout)["results"][0]["status"] == "error"
    allowed = run_imagevet(
        "vuln", HARDENED, "--db", str(database), "--allow-stale-db", "-f", "json", "--fail-on", "never"
    )
    assert allowed.returncode == 0, allowed.stderr
    document = json.loads(allowed.stdout)
    assert any("accepted with --allow-stale-db" in w for w in document["coverage"]["warnings"])
    assert any("accepted with --allow-stale-db" in n for n in document["notices"])
    assert "accepted with --allow-stale-db" in allowed.stderr
    audited = run_imagevet(
        "audit",
        HARDENED,
        "--checks",
        "updates-pending-security",
        "--db",
        str(database),
        "--allow-stale-db",
        "-f",
        "json",
    )
    assert audited.returncode == 0 and json.loads(audited.stdout)["results"][0]["status"] == "pass"
    days = (dt.datetime.now(dt.UTC) - dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).days + 2
    wider = run_imagevet(
        "vuln", HARDENED, "--db", str(database), "--max-db-age", str(days), "--fail-on", "never"
    )
    assert wider.returncode == 0, wider.stderr


def test_partial_and_complete_coverage_are_reported(tmp_path: Path, database: Path) -> None:
    partial = json.loads(run_imagevet("vuln", HARDENED, "--db", str(database), "-f", "json").stdout)[
        "coverage"
    ]
    assert partial["ecosystem"] == "Debian:12" and partial["complete"] is False
    assert "coverage may be partial" in partial["warnings"][0]
    complete_db = tmp_path / "complete.sqlite3"
    import_records(complete_db, archive_of(RECORDS, tmp_path / "all.zip"))
    complete = json.loads(run_imagevet("vuln", HARDENED, "--db", str(complete_db), "-f", "json").stdout)
    assert complete["coverage"]["complete"] is True and complete["coverage"]["warnings"] == []
    status = json.loads(run_imagevet("db", "status", "--db", str(complete_db), "-f", "json").stdout)
    rows = {r["ecosystem"]: r for r in status["coverage"]}
    assert (
        rows["Debian:12"]["complete"] and not rows["Debian:12"]["stale"] and rows["Debian:12"]["records"] == 6
    )
    table = run_imagevet("vuln", HARDENED, "--db", str(database)).stdout
    assert "needs advisories for Debian:12" in table and "individual records" in table


def test_db_status_flags_stale_ecosystems(database: Path) -> None:
    age_ecosystem(database, "Debian:11", "2026-01-01T00:00:00Z")
    proc = run_imagevet("db", "status", "--db", str(database))
    assert proc.returncode == 0
    stale_line = next(line for line in proc.stdout.splitlines() if "Debian:11" in line)
    assert stale_line.endswith("STALE") and "Debian:11" in proc.stderr


def test_an_old_schema_database_is_refused_in_one_line(tmp_path: Path, database: Path) -> None:
    old = tmp_path / "old.sqlite3"
    shutil.copyfile(database, old)
    with sqlite3.connect(old) as connection:
        connection.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        connection.execute("DROP TABLE coverage")
    assert "older schema version" in one_line_error(run_imagevet("vuln", HARDENED, "--db", str(old)))
    import_records(old)  # an import upgrades it in place (atomically) ...
    upgraded = run_imagevet("vuln", HARDENED, "--db", str(old), "--fail-on", "never")
    assert upgraded.returncode == 0, upgraded.stderr  # ... and it covers Debian:12 again


def test_a_file_that_is_not_an_imagevet_database_is_never_rebuilt_over(tmp_path: Path) -> None:
    other = tmp_path / "notes.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
        connection.execute("INSERT INTO notes VALUES ('keep me')")
    before = other.read_bytes()
    line = one_line_error(run_imagevet("db", "import", str(RECORDS), "--db", str(other)))
    assert "not an imagevet advisory database" in line
    assert other.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite3"]
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"\x00garbage" * 100)
    assert "not an imagevet advisory database" in one_line_error(
        run_imagevet("vuln", HARDENED, "--db", str(garbage))
    )
    assert "not an imagevet advisory database" in one_line_error(
        run_imagevet("audit", HARDENED, "--db", str(garbage))
    )
