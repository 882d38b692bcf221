"""The database's version intervals (spans.py, ranged.py) against the matcher's own judgement.

The spans replace, for Debian and Ubuntu, the matcher's entry-by-entry comparison during a scan. They are
only right if, for every installed version, the span lookup gives what match_one gives. Three levels:
- the version key (versions.deb.deb_sort_text): its plain order, in Python and in SQLite, is compare_deb's
  (which tests/versions checks against dpkg itself);
- one entry: for generated ranges (every event kind, repeated and equal-keyed versions, several ranges,
  listed versions) and installed versions around them, the span that holds the version gives match_one's
  fix and explanation, or no span holds it and match_one finds nothing;
- a whole scan: OSV records imported by the real importer, matched through the database's ranged lookup
  and through the plain lookup (entry by entry), give the same findings and warnings, in the same order.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imagevet.errors import VersionError
from imagevet.inventory.collect import collect_inventory
from imagevet.model import OsRelease, Package
from imagevet.target import RootfsTarget
from imagevet.versions.deb import compare_deb, deb_sort_text
from imagevet.vuln import db
from imagevet.vuln.ecosystem import Ecosystems, ecosystems_for
from imagevet.vuln.importer import ImportStats, import_into, iter_inputs
from imagevet.vuln.matcher import describe_range, match_one, match_packages
from imagevet.vuln.osv import Advisory, Affected
from imagevet.vuln.spans import spans_of
from imagevet.vuln.stored import Ranges
from tests.support.advisories import fresh_stamp

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEBIAN = Ecosystems(("Debian:12",), True, "deb")
UBUNTU_1804 = OsRelease("ubuntu", "18.04", "Ubuntu", "", "", "", ("debian",), "debian", "x")

# Versions close together, some equal under dpkg's order but written differently (1.0 / 1.00 / 1.0-0),
# with epochs, tildes, and one dpkg refuses (the entry then has no spans).
POOL = [
    "0",
    "0~",
    "1",
    "1.0",
    "1.00",
    "1.0-0",
    "1.0-1",
    "1.0-1+deb12u1",
    "1.0~rc1",
    "1:0.9",
    "1:1.0",
    "2.0",
    "2",
]
versions = st.sampled_from(POOL)
installed_versions = st.one_of(versions, st.sampled_from(["~", "0.5", "1.0-1+b1", "3", "1:2", "2:0"]))
kinds = st.sampled_from(["introduced", "fixed", "last_affected", "limit"])
events = st.lists(st.tuples(kinds, st.one_of(versions, st.just("0"))), min_size=0, max_size=5)
ranges = st.lists(events.map(tuple), min_size=0, max_size=3).map(tuple)
listed = st.lists(versions, max_size=2).map(tuple)


def span_judgement(spans: list[tuple[object, ...]], version: str) -> tuple[str | None, str] | None:
    """What the spans say of ``version``: the smallest ``what`` holding its key, as ranged.py's query."""
    key = deb_sort_text(version)
    held = []
    for what, lo, hi, fix, matched in spans:
        assert isinstance(lo, str) and isinstance(what, int) and (hi is None or isinstance(hi, str))
        if matched is None:  # the usual shape's explanation, which the database does not store
            matched = describe_range((("introduced", "0"), ("fixed", str(fix))))
        if lo <= key and (hi is None or key < hi):
            held.append((what, fix, matched))
    if not held:
        return None
    _, fix, matched = min(held, key=lambda hit: hit[0])
    assert (fix is None or isinstance(fix, str)) and isinstance(matched, str)
    return fix, matched


@SETTINGS
@given(st.sampled_from([*POOL, "~", "0.5", "1.0-1+b1", "10", "1:2", "2:0", "1.0+really"]), st.data())
def test_the_version_key_orders_as_dpkg_in_python_and_in_sqlite(a: str, data: st.DataObject) -> None:
    b = data.draw(st.text("0123456789abzAZ.+~:-", min_size=1, max_size=8) | st.sampled_from(POOL))
    try:
        expected = compare_deb(a, b)
    except VersionError:
        with pytest.raises(VersionError):
            deb_sort_text(a), deb_sort_text(b)
        return
    ka, kb = deb_sort_text(a), deb_sort_text(b)
    assert ((ka > kb) - (ka < kb)) == expected, (a, b)
    # spans.JUST_ABOVE rests on this: no key is a proper prefix of another
    assert ka == kb or not (ka.startswith(kb) or kb.startswith(ka)), (a, b)
    with sqlite3.connect(":memory:") as connection:
        below, equal = connection.execute("SELECT ? < ?, ? = ?", (ka, kb, ka, kb)).fetchone()
    assert (bool(below), bool(equal)) == (expected < 0, expected == 0), (a, b)


def test_a_version_too_long_to_key_is_refused_not_mis_ordered() -> None:
    with pytest.raises(VersionError):
        deb_sort_text("1." + "9" * 0xD800)


@SETTINGS
@given(ranges, listed, installed_versions)
@example(((("introduced", "0"), ("fixed", "1.0-1")),), (), "1.0-0")  # the usual shape, just below the fix
@example(((("introduced", "0"), ("fixed", "1.0")),), (), "1.00")  # the fix written differently
@example(((("introduced", "1.0"), ("last_affected", "1.00")),), (), "1.0")  # a point range
@example(((("fixed", "1.0"), ("introduced", "0"), ("introduced", "1.0-1")),), (), "2")  # unsorted events
@example(((("introduced", "1"), ("fixed", "1.0")), (("introduced", "0"),)), ("1",), "1")  # second range
@example((), ("1.0", "1.00"), "1.0")  # listed only
def test_an_entry_s_spans_judge_every_version_as_the_matcher_does(
    given_ranges: Ranges, given_versions: tuple[str, ...], installed: str
) -> None:
    spans = spans_of(given_ranges, given_versions)
    assert spans is not None  # every version of the pool is one dpkg accepts
    package = Package("pkg", installed, "amd64", "pkg", installed)
    advisory = Advisory("DSA-1", "2026-01-01T00:00:00Z", None, "s", (), "high", None, ())
    affected = Affected("Debian:12", "pkg", given_ranges, given_versions, None)
    warnings: list[str] = []
    finding = match_one(package, advisory, affected, DEBIAN, warnings)
    assert not warnings
    expected = None if finding is None else (finding.fixed, finding.matched)
    assert span_judgement(list(spans), installed) == expected, spans


def test_an_entry_with_a_version_dpkg_refuses_has_no_spans() -> None:
    assert spans_of(((("introduced", "0"), ("fixed", "1.0 beta")),), ()) is None
    assert spans_of(((("introduced", "0"),),), ("not a version!",)) is None


# ----------------------------------------------------------------------------- whole scans


def record(number: int, package: str, affected_ranges: list[list[dict[str, str]]], **extra: object) -> bytes:
    data = {
        "id": f"DEBIAN-CVE-2026-{number:04d}",
        "modified": "2026-01-01T00:00:00Z",
        "aliases": [f"CVE-2026-{number % 7:04d}"],  # shared aliases: findings merge
        "summary": f"advisory {number}",
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": package},
                "ranges": [{"type": "ECOSYSTEM", "events": events} for events in affected_ranges],
                **extra,
            }
        ],
    }
    return json.dumps(data).encode()


event_dicts = st.lists(
    st.tuples(kinds, st.sampled_from([*POOL, "1.0 beta"])).map(lambda pair: {pair[0]: pair[1]}),
    min_size=1,
    max_size=4,
)
usual = st.sampled_from(POOL).map(lambda fix: [{"introduced": "0"}, {"fixed": fix}])  # most Debian records
records = st.lists(
    st.tuples(
        st.sampled_from(["alpha", "beta", "gamma"]),
        st.lists(usual | event_dicts, min_size=1, max_size=2),
        st.lists(st.sampled_from(POOL), max_size=2),
        st.sampled_from([False, False, False, True]),  # withdrawn
        st.tuples(  # what a finding says: the hit text of the usual shape keeps each (stored.encode_hit)
            st.text(st.sampled_from("ab |\x1f\x01\té✓"), max_size=6),  # summary
            st.sampled_from([None, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"]),
            st.sampled_from([None, "low", "high"]),  # the entry's own urgency
            st.integers(0, 2),  # aliases
        ),
    ),
    min_size=1,
    max_size=12,
)
packages = st.lists(
    st.tuples(
        st.sampled_from(["alpha", "beta", "gamma", "delta"]), installed_versions, st.sampled_from(["a", "b"])
    ),
    min_size=1,
    max_size=6,
)


def both_ways(database: Path, installed: list[Package], ecosystems: Ecosystems) -> None:
    opened = db.AdvisoryDatabase(database)
    ranged = match_packages(installed, ecosystems, opened)
    plain = match_packages(installed, ecosystems, lambda names, wanted: opened(names, wanted))
    assert ranged == plain


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(records, packages, st.booleans())
def test_a_scan_through_the_spans_finds_what_the_entry_by_entry_scan_finds(
    tmp_path_factory: pytest.TempPathFactory,
    given_records: list[
        tuple[str, list[list[dict[str, str]]], list[str], bool, tuple[str, str | None, str | None, int]]
    ],
    given_packages: list[tuple[str, str, str]],
    refused_version: bool,
) -> None:
    database = tmp_path_factory.mktemp("spans") / "osv.sqlite3"
    inputs = []
    for number, (package, affected_ranges, listed_versions, withdrawn, texts) in enumerate(given_records):
        extra: dict[str, object] = {"versions": listed_versions} if listed_versions else {}
        summary, vector, urgency, aliases = texts
        if urgency:
            extra["ecosystem_specific"] = {"urgency": urgency}
        data = json.loads(record(number, package, affected_ranges, **extra))
        data["summary"] = summary
        data["aliases"] = [f"CVE-2026-{(number + n) % 7:04d}" for n in range(aliases)]
        if vector:
            data["severity"] = [{"type": "CVSS_V3", "score": vector}]
        if withdrawn:
            data["withdrawn"] = "2026-02-01T00:00:00Z"
        inputs.append((f"{number}.json", json.dumps(data).encode()))
    import_into(database, iter(inputs), "test", fresh_stamp())
    installed = [
        Package(f"{source}-{arch}{index}", version, "amd64" if arch == "a" else "arm64", source, version)
        for index, (source, version, arch) in enumerate(given_packages)
    ]
    if refused_version:  # its source's entries are then judged one by one, with the matcher's warning
        installed.append(Package("bad", "1.0 beta", "amd64", "alpha", "1.0 beta"))
    both_ways(database, installed, DEBIAN)


def test_real_ubuntu_advisories_through_the_spans_and_entry_by_entry(
    shared_data: Path, tmp_path: Path
) -> None:
    database = tmp_path / "osv.sqlite3"
    import_into(database, iter_inputs([shared_data / "osv"], ImportStats()), "test", fresh_stamp())
    inventory = collect_inventory(
        RootfsTarget(str(shared_data / "pkgdb/dpkg/ubuntu-18.04-trivy")), UBUNTU_1804
    )
    ecosystems = ecosystems_for(UBUNTU_1804)
    assert ecosystems is not None
    found, _ = match_packages(list(inventory.packages), ecosystems, db.AdvisoryDatabase(database))
    assert found  # the expected matches of test_matching.py: the comparison is not of two empty lists
    both_ways(database, list(inventory.packages), ecosystems)


def test_closed_ends_and_listed_versions_hold_in_the_database(tmp_path: Path) -> None:
    """The points of an interval: last_affected holds its own version, fixed does not, a listed version
    holds itself however it is written (1.0 and 1.00 are one version to dpkg)."""
    database = tmp_path / "osv.sqlite3"
    inputs = [
        ("1.json", record(1, "alpha", [[{"introduced": "1.0"}, {"last_affected": "2.0"}]])),
        ("2.json", record(2, "beta", [[{"introduced": "0"}, {"fixed": "2.0"}]])),
        ("3.json", record(3, "gamma", [], versions=["1.00"])),
    ]
    import_into(database, iter(inputs), "test", fresh_stamp())
    installed = [
        Package("alpha", "2.0", "amd64", "alpha", "2.0"),
        Package("alpha-low", "1.0", "amd64", "alpha", "1.0"),
        Package("alpha-old", "0.9", "amd64", "alpha", "0.9"),
        Package("beta", "2.0", "amd64", "beta", "2.0"),
        Package("beta-old", "1.99", "amd64", "beta", "1.99"),
        Package("gamma", "1.0", "amd64", "gamma", "1.0"),
    ]
    found, warnings = match_packages(installed, DEBIAN, db.AdvisoryDatabase(database))
    assert not warnings
    assert sorted((f.package, f.fixed, f.matched) for f in found) == [
        ("alpha", None, "range introduced 1.0, last_affected 2.0"),
        ("alpha-low", None, "range introduced 1.0, last_affected 2.0"),
        ("beta-old", "2.0", "range introduced 0, fixed 2.0"),
        ("gamma", None, "listed version 1.00"),
    ]
    both_ways(database, installed, DEBIAN)
