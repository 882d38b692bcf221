"""The ranged scan (vuln/ranged.py) under a damaged or hand-edited database, and hostile records at import.

Each edit below is one a red-team review of schema 4 made: rows the importer never writes. The scan must
stop with one line naming the file (exit 2), or, where the damaged value only sends an entry back to the
matcher (an unknown entry kind), find exactly what the intact database finds: never fewer findings.
The database: two advisories for openssh in Debian:12 whose ranges start above 0 (so both are spans, not
the usual shape) and one of the usual shape; the image has openssh-client 1:9.2p1-2+deb12u4, in all three.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from imagevet.vuln.importer import import_into
from imagevet.vuln.stored import EVENT, RANGE
from tests.support.advisories import debian_image_with, fresh_stamp
from tests.support.cli import imagevet_env, run_imagevet

INSTALLED = "1:9.2p1-2+deb12u4"


def record(advisory_id: str, events: list[dict[str, str]]) -> tuple[str, bytes]:
    data = {
        "id": advisory_id,
        "modified": "2026-01-01T00:00:00Z",
        "summary": f"{advisory_id} summary",
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": "openssh"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
    }
    return f"{advisory_id}.json", json.dumps(data).encode()


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return debian_image_with(tmp_path / "image", ("openssh-client", "openssh", INSTALLED))


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "osv.sqlite3"
    records = [
        record("DSA-1", [{"introduced": "1:9.0"}, {"fixed": "1:9.2p1-2+deb12u5"}]),
        record("DSA-2", [{"introduced": "1:9.1"}, {"fixed": "1:9.2p1-2+deb12u6"}]),
        record("DSA-3", [{"introduced": "0"}, {"fixed": "1:9.2p1-2+deb12u7"}]),
    ]
    import_into(path, iter(records), "test", fresh_stamp())
    return path


def hit_text(**fields: str) -> str:
    """The hit text (stored.encode_hit) of DSA-3's entry, the usual shape, as imported but ``fields``."""
    intact = {"advisory": "DSA-3", "aliases": "", "severity": "unknown", "score": "", "withdrawn": ""}
    intact |= {"fix": "1:9.2p1-2+deb12u7", "summary": "DSA-3 summary"}
    return RANGE.join((intact | fields).values())


def set_hit(**fields: str) -> str:
    """The statement giving DSA-3's entry that text (a hex literal cast: separators and all)."""
    return f"UPDATE affected SET hit = CAST(X'{hit_text(**fields).encode().hex()}' AS TEXT) WHERE spanned = 2"


def scan(image: Path, database: Path) -> tuple[int, list[str], str]:
    proc = run_imagevet(
        "vuln", str(image), "--db", str(database), "-f", "json", env=imagevet_env(drop=()), timeout=120
    )
    found = [f["id"] for f in json.loads(proc.stdout)["findings"]] if proc.returncode in (0, 1) else []
    return proc.returncode, sorted(found), proc.stderr


def test_the_intact_database_finds_all_three(image: Path, database: Path) -> None:
    code, found, stderr = scan(image, database)
    assert (code, found) == (0, ["DSA-1", "DSA-2", "DSA-3"]), stderr  # unrated: under the gate
    with sqlite3.connect(database) as connection:
        (hit,) = connection.execute("SELECT hit FROM affected WHERE spanned = 2").fetchone()
    assert hit == hit_text()  # what set_hit starts from is what the importer wrote
    with sqlite3.connect(database) as connection:
        kinds = connection.execute("SELECT spanned, COUNT(*) FROM affected GROUP BY spanned").fetchall()
    assert kinds == [(1, 2), (2, 1)]  # two entries as spans, one as the usual shape's bound


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE spans SET entry = 'abc' WHERE entry = (SELECT MIN(entry) FROM spans)",
        # two advisories on one entry
        "UPDATE spans SET entry = (SELECT MAX(id) FROM affected WHERE spanned = 1)",
        "UPDATE spans SET entry = (SELECT id FROM affected WHERE spanned = 2)",
        "UPDATE spans SET entry = entry + 1000",
        "UPDATE spans SET advisory = 999",
        "UPDATE spans SET package = 'openssh', ecosystem = 'Debian:12', advisory = advisory + 1",
        "UPDATE spans SET hi = char(256)",  # a key, but below the lower end: an empty interval
        "UPDATE spans SET hi = lo",
        "DELETE FROM spans",
        "DELETE FROM spans WHERE entry = (SELECT MIN(entry) FROM spans)",
        "UPDATE affected SET spanned = 1 WHERE spanned = 2",
        "UPDATE affected SET spanned = 2 WHERE spanned = 1",
        "UPDATE advisories SET score = X'00'",
        "UPDATE advisories SET summary = X'00'",
        "UPDATE advisories SET row = row + 100",
        # the usual shape's entry (DSA-3): its bound, and each field of the hit text it is read from
        "UPDATE affected SET below = 'not a key' WHERE spanned = 2",
        "UPDATE affected SET below = X'00' WHERE spanned = 2",
        "UPDATE affected SET hit = NULL WHERE spanned = 2",
        "UPDATE affected SET hit = X'00' WHERE spanned = 2",
        "UPDATE affected SET hit = 7 WHERE spanned = 2",
        "UPDATE affected SET hit = 'DSA-3' WHERE spanned = 2",  # one field of seven
        set_hit(severity="severe"),
        set_hit(score="high"),
        set_hit(withdrawn="yes"),
        set_hit(aliases="CVE-2026-1"),  # no separator before the alias
        set_hit(advisory=""),
        set_hit(fix="1:9.2p1-2+deb12u7" + EVENT + "i0"),
        set_hit(fix=""),  # would be reported as unfixed
        "UPDATE affected SET hit = substr(hit, 1, instr(hit, '1:9.2') - 2) WHERE spanned = 2",  # five fields
    ],
)
def test_a_damaged_row_stops_the_scan_with_one_line(image: Path, database: Path, damage: str) -> None:
    with sqlite3.connect(database) as connection:
        assert connection.execute(damage).rowcount > 0
    code, _, stderr = scan(image, database)
    assert code == 2, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert str(database) in stderr and "damaged" in stderr


@pytest.mark.parametrize("kind", ["3", "-1", "2.5", "'x'"])
def test_an_unknown_entry_kind_is_judged_from_its_ranges_not_lost(
    image: Path, database: Path, kind: str
) -> None:
    """(On an entry with spans, another kind makes its spans point at an entry without any: damaged.)"""
    with sqlite3.connect(database) as connection:
        connection.execute(f"UPDATE affected SET spanned = {kind} WHERE spanned = 2")
    code, found, stderr = scan(image, database)
    assert (code, found) == (0, ["DSA-1", "DSA-2", "DSA-3"]), stderr  # unrated: under the gate


def test_a_record_of_thousands_of_events_imports_quickly_and_still_matches(
    tmp_path: Path, image: Path
) -> None:
    """Spanning judges each of a range's regions over all its events (quadratic); past spans.MOST_EVENTS the
    entry is left to the matcher. 4,000 events took 20 s to span; the import of 4,000 is now ~0.4 s."""
    events: list[dict[str, str]] = []
    for number in range(2000):
        events += [{"introduced": f"1.{2 * number}"}, {"fixed": f"1.{2 * number + 1}"}]
    events += [{"introduced": "1:9.0"}, {"fixed": "1:9.2p1-2+deb12u5"}]
    path = tmp_path / "osv.sqlite3"
    start = time.monotonic()
    import_into(path, iter([record("DSA-9", events)]), "test", fresh_stamp())
    assert time.monotonic() - start < 5
    code, found, stderr = scan(image, path)
    assert (code, found) == (0, ["DSA-9"]), stderr
