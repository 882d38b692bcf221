"""Issue 19 (items 3 and 4): batched lookups over ranges stored ready to match (schema 3), an older schema
refused, compact vuln JSON beside ``--pretty``, and a bulk import that still never harms the database."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from imagevet.inventory.collect import collect_inventory
from imagevet.model import OsRelease, Package
from imagevet.target import RootfsTarget
from imagevet.vuln import db, entries
from imagevet.vuln.ecosystem import ecosystems_for
from imagevet.vuln.importer import ImportError_, ImportStats, import_into, iter_inputs
from imagevet.vuln.matcher import Finding, match_packages
from imagevet.vuln.osv import Advisory, Affected, OsvError, parse_record
from imagevet.vuln.stored import decode_ranges, decode_texts, encode_ranges, encode_texts
from tests.conftest import FIXTURES
from tests.support.advisories import debian_image_with, fresh_stamp
from tests.support.cli import imagevet_env, run_imagevet
from tests.vuln.test_matching import DEBIAN_12, UBUNTU_1804, deb

NOW = fresh_stamp()


def build(database: Path, *sources: Path) -> ImportStats:
    stats = ImportStats()
    return import_into(database, iter_inputs(list(sources), stats), "test", NOW, stats=stats)


def per_package_unsorted(connection: sqlite3.Connection) -> db.Lookup:
    """The lookup as it was before issue 19: one query per package name, every range sorted at scan time."""

    def lookup(ecosystems: tuple[str, ...], names: Iterable[str]) -> list[tuple[Advisory, Affected]]:
        rows = [row for name in names for row in db.lookup(connection, ecosystems, [name])]
        return [(a, dataclasses.replace(f, ordered=None, sorted_for="")) for a, f in rows]

    return lookup


def counted(connection: sqlite3.Connection, queries: list[str]) -> db.Lookup:
    connection.set_trace_callback(lambda sql: queries.append(sql) if sql.startswith("SELECT") else None)
    return lambda ecosystems, names: list(db.lookup(connection, ecosystems, names))


def findings_both_ways(
    database: Path, os: OsRelease, packages: list[Package], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Finding], list[Finding], list[str], int]:
    ecosystems = ecosystems_for(os)
    assert ecosystems is not None
    monkeypatch.setattr(entries, "CHUNK", chunk)
    connection = db.open_readonly(database)
    queries: list[str] = []
    batched, warnings = match_packages(packages, ecosystems, counted(connection, queries))
    connection.set_trace_callback(None)
    before, before_warnings = match_packages(packages, ecosystems, per_package_unsorted(connection))
    assert warnings == before_warnings
    names = {p.source for p in packages if p.type == ecosystems.scheme}
    expected_queries = len(ecosystems.names) * -(-len(names) // chunk)
    return batched, before, queries, expected_queries


@pytest.mark.parametrize("chunk", [500, 7])
def test_batched_lookup_finds_what_one_query_per_package_found(
    tmp_path: Path, shared_data: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "osv.sqlite3"
    build(database, shared_data / "osv")
    root = RootfsTarget(str(shared_data / "pkgdb/dpkg/ubuntu-18.04-trivy"))
    packages = list(collect_inventory(root, UBUNTU_1804).packages)
    batched, before, queries, expected = findings_both_ways(
        database, UBUNTU_1804, packages, chunk, monkeypatch
    )
    assert batched and batched == before
    assert len(queries) == expected  # one query per ecosystem and chunk of names, not per package


def test_batched_lookup_on_the_project_fixtures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "osv.sqlite3"
    build(database, FIXTURES / "osv")
    packages = [
        deb("openssh-client", "1:9.2p1-2+deb12u4", "openssh"),
        deb("libc6", "2.36-9+deb12u3", "glibc"),
        deb("libc6-dev", "2.36-9+deb12u4", "glibc"),
        *(deb(f"unrelated{n}", "1.0-1") for n in range(30)),
    ]
    batched, before, queries, expected = findings_both_ways(database, DEBIAN_12, packages, 4, monkeypatch)
    assert batched and batched == before
    assert len(queries) == expected == 8  # 32 source names, 4 a query


def record(events: list[dict[str, str]], versions: list[str] | None = None) -> dict[str, object]:
    return {
        "id": "DSA-9100-1",
        "modified": "2026-11-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "Debian:12", "name": "demo"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
                "versions": versions or [],
            }
        ],
    }


def test_ranges_given_out_of_order_are_stored_sorted_and_described_as_given(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    events = [{"fixed": "1.5-1"}, {"introduced": "1.2-1"}, {"fixed": "1.1-1"}, {"introduced": "0"}]
    (folder / "DSA-9100-1.json").write_text(json.dumps(record(events)))
    database = tmp_path / "osv.sqlite3"
    build(database, folder)
    connection = db.open_readonly(database)
    ((_, affected),) = db.lookup(connection, ("Debian:12",), ["demo"])
    assert affected.sorted_for == "deb" and affected.ordered is not None
    assert [kind for kind, _ in affected.ordered[0]] == ["introduced", "fixed", "introduced", "fixed"]
    ecosystems = ecosystems_for(DEBIAN_12)
    assert ecosystems is not None
    lookup = per_package_unsorted(connection)
    for version, fixed in (("1.0-1", "1.1-1"), ("1.3-1", "1.5-1")):
        found, _ = match_packages(
            [deb("demo", version)], ecosystems, lambda e, n: list(db.lookup(connection, e, n))
        )
        assert [f.fixed for f in found] == [fixed]
        assert found[0].matched == "range fixed 1.5-1, introduced 1.2-1, fixed 1.1-1, introduced 0"
        assert match_packages([deb("demo", version)], ecosystems, lookup)[0] == found
    assert not match_packages(
        [deb("demo", "1.1-1")], ecosystems, lambda e, n: list(db.lookup(connection, e, n))
    )[0]


@pytest.mark.parametrize("text", ["", "a", "1:2.0~rc1-1+deb12u1"])
def test_the_ready_form_round_trips(text: str) -> None:
    ranges = ((), (("introduced", "0"), ("fixed", text)), (("last_affected", text), ("limit", "2")))
    assert decode_ranges(encode_ranges(ranges)) == ranges
    assert decode_texts(encode_texts(("", "1.0", text))) == ("", "1.0", text)
    assert decode_ranges(encode_ranges(())) == () and decode_texts(encode_texts(())) == ()


def test_a_version_or_alias_with_a_control_character_is_refused() -> None:
    with pytest.raises(OsvError, match="control character"):
        parse_record(record([{"introduced": "0"}, {"fixed": "1.0\x1f-1"}]))
    with pytest.raises(OsvError, match="control character"):
        parse_record(record([{"introduced": "0"}], versions=["1.0\x1e"]))
    with pytest.raises(OsvError, match="alias contains a control character"):
        parse_record({**record([{"introduced": "0"}]), "aliases": ["CVE-2026-1\x1f"]})


def old_schema_database(path: Path, version: str = "2") -> None:
    connection = sqlite3.connect(str(path))
    connection.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE advisories (id TEXT PRIMARY KEY, modified TEXT, withdrawn TEXT, summary TEXT,"
        " aliases TEXT NOT NULL, severity TEXT NOT NULL, score REAL);"
        "CREATE TABLE affected (advisory_id TEXT NOT NULL, ecosystem TEXT NOT NULL, package TEXT NOT NULL,"
        " ranges TEXT NOT NULL, versions TEXT NOT NULL, severity TEXT);"
    )
    connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (version,))
    connection.commit()
    connection.close()


def run(*args: str) -> tuple[int, str, str]:
    proc = run_imagevet(*args, env=imagevet_env(drop=()), timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def debian_root(tmp_path: Path) -> Path:
    return debian_image_with(tmp_path / "image", ("openssh-client", "openssh", "1:9.2p1-2+deb12u4"))


@pytest.mark.parametrize("command", [["vuln", "ROOT"], ["db", "status"]])
def test_an_older_schema_is_refused_with_one_line_and_exit_2(
    tmp_path: Path, debian_root: Path, command: list[str]
) -> None:
    database = tmp_path / "osv.sqlite3"
    old_schema_database(database)
    before = database.read_bytes()
    code, _, stderr = run(
        *[str(debian_root) if part == "ROOT" else part for part in command], "--db", str(database)
    )
    assert code == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert "older schema version (2)" in stderr and "re-import" in stderr
    assert database.read_bytes() == before


def test_an_import_rebuilds_an_older_schema_and_says_so(tmp_path: Path, debian_root: Path) -> None:
    database = tmp_path / "osv.sqlite3"
    old_schema_database(database)
    code, _, stderr = run("db", "import", str(FIXTURES / "osv"), "--db", str(database))
    assert code == 0, stderr
    assert "older schema version 2" in stderr and "rebuilt" in stderr
    assert db.schema_of(database) == db.SCHEMA_VERSION
    kept = tmp_path / "osv.sqlite3.schema2.bak"
    assert kept.name in stderr and db.schema_of(kept) == "2"  # what the user had is kept, not destroyed
    database.unlink()
    old_schema_database(database)
    code, _, stderr = run("db", "import", str(FIXTURES / "osv"), "--db", str(database))
    assert code == 0 and (tmp_path / "osv.sqlite3.schema2.bak.1").exists(), stderr
    code, stdout, stderr = run("vuln", str(debian_root), "--db", str(database), "-f", "json")
    assert code == 1 and {f["id"] for f in json.loads(stdout)["findings"]} >= {"DSA-9001-1"}


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_compact_output_by_default_and_pretty_parse_equal(
    tmp_path: Path, debian_root: Path, fmt: str
) -> None:
    database = tmp_path / "osv.sqlite3"
    build(database, FIXTURES / "osv")
    base = ["vuln", str(debian_root), "--db", str(database), "-f", fmt, "--fail-on", "never"]
    code, compact, stderr = run(*base)
    assert code == 0, stderr
    code, pretty, stderr = run(*base, "--pretty")
    assert code == 0, stderr
    assert compact.count("\n") == 1 and compact.endswith("}\n")
    assert pretty.count("\n") > 20 and pretty.startswith('{\n  "')
    compact_doc, pretty_doc = json.loads(compact), json.loads(pretty)
    if fmt == "json":  # the scan's own age and time move between runs
        for doc in (compact_doc, pretty_doc):
            doc["coverage"].pop("age_days")
    assert compact_doc == pretty_doc


def test_import_of_a_truncated_zip_leaves_the_database_untouched(tmp_path: Path) -> None:
    database = tmp_path / "osv.sqlite3"
    build(database, FIXTURES / "osv")
    before = database.read_bytes()
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for index in range(300):
            data = json.loads((FIXTURES / "osv/DSA-9002-1.json").read_text())
            data["id"] = f"DSA-{index}-1"
            out.writestr(f"DSA-{index}-1.json", json.dumps(data) + " " * 2000)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(ImportError_):
        build(database, truncated)
    assert database.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.zip", "osv.sqlite3", "truncated.zip"]
    code, _, stderr = run("db", "import", str(truncated), "--db", str(database))
    assert code == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert database.read_bytes() == before


def test_replacing_an_advisory_drops_its_old_rows(tmp_path: Path) -> None:
    database = tmp_path / "osv.sqlite3"
    build(database, FIXTURES / "osv")
    folder = tmp_path / "again"
    folder.mkdir()
    data = json.loads((FIXTURES / "osv/DSA-9001-1.json").read_text())
    data["affected"][0]["package"]["name"] = "openssh-renamed"
    (folder / "DSA-9001-1.json").write_text(json.dumps(data))
    (folder / "copy.json").write_text(json.dumps(data))  # the same id twice in one import
    build(database, folder)
    connection = db.open_readonly(database)
    rows = connection.execute(
        "SELECT f.package FROM affected f JOIN advisories a ON a.row = f.advisory WHERE a.id = 'DSA-9001-1'"
    ).fetchall()
    orphans = connection.execute(
        "SELECT COUNT(*) FROM affected WHERE advisory NOT IN (SELECT row FROM advisories)"
    ).fetchone()[0]
    assert rows == [("openssh-renamed",)] and orphans == 0


def test_a_family_replaced_twice_never_lends_old_packages_to_new_advisories(tmp_path: Path) -> None:
    """`db update` drops the family's advisories and loads the new ones: the new advisories must not take
    the dropped ones' numbers, or the dropped packages (removed only at the end) would match under them."""
    database = tmp_path / "osv.sqlite3"

    def one(advisory_id: str, package: str) -> tuple[str, bytes]:
        data = {**record([{"introduced": "0"}, {"fixed": "2.0-1"}]), "id": advisory_id}
        data["affected"][0]["package"]["name"] = package  # type: ignore[index]
        return f"{advisory_id}.json", json.dumps(data).encode()

    stamp = "2026-12-01T00:00:00Z"
    import_into(database, iter([one("DSA-OLD-1", "openssl"), one("DSA-OLD-2", "zlib")]), "t", stamp)
    import_into(database, iter([one("DSA-NEW-1", "bash")]), "t", stamp, replace_families=True)
    connection = db.open_readonly(database)
    found = {
        (name, a.id)
        for name in ("openssl", "zlib", "bash")
        for a, _ in db.lookup(connection, ("Debian:12",), [name])
    }
    assert found == {("bash", "DSA-NEW-1")}


@pytest.mark.parametrize(
    "damage",
    [
        # entries without spans (spans.py), which the matcher judges from their ranges
        "UPDATE affected SET ranges = 'not the ready form', spanned = 0",
        "UPDATE affected SET ranges = X'00ff', spanned = 0",
        "UPDATE affected SET ranges = 7, spanned = 0",
        "UPDATE affected SET ordered = ranges || ranges, spanned = 0 WHERE ranges != ''",
        "UPDATE affected SET severity = 3, spanned = 0",
        # either kind
        "UPDATE advisories SET severity = 'catastrophic'",
        # the spans the database judges versions by (TEXT affinity stores 7 as '7': not a version key)
        "UPDATE spans SET lo = 7",
        "UPDATE spans SET hi = 7",
        "UPDATE spans SET hi = X'00ff'",
        "UPDATE spans SET hi = 'x'",
        "UPDATE spans SET what = 'first'",
        "UPDATE spans SET fix = X'00'",
        "UPDATE spans SET severity = 3",
        "UPDATE spans SET matched = NULL",
        # the usual shape's one bound and hit text, in its entry's row
        "UPDATE affected SET below = NULL WHERE spanned = 2",
        "UPDATE affected SET below = 7 WHERE spanned = 2",
        "UPDATE affected SET hit = 'x' WHERE spanned = 2",
    ],
)
def test_a_damaged_row_is_a_database_error_not_a_traceback(
    tmp_path: Path, debian_root: Path, damage: str
) -> None:
    """A row the importer never writes (a damaged or hand-edited file) stops the scan with one line naming
    the file: the advisory it held cannot be judged, so skipping it would be a silent "not affected"."""
    database = tmp_path / "osv.sqlite3"
    code, _, stderr = run("db", "import", str(FIXTURES / "osv"), "--db", str(database))
    assert code == 0, stderr
    with sqlite3.connect(database) as connection:
        connection.execute(damage)
    code, stdout, stderr = run("vuln", str(debian_root), "--db", str(database), "-f", "json")
    assert code == 2 and stdout == "", stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert str(database) in stderr and "damaged" in stderr and "db import" in stderr
