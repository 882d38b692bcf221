"""One bad record never sinks an import: records of any shape (wrong JSON types, absurd nesting, lone
surrogates, oversized) are skipped, counted and named by where they were (never by their content), the rest
imports atomically; an interrupted import (SIGTERM, as Ctrl-C) leaves the previous database and no
temporary file. The good records are the project's own fixtures (tests/fixtures/osv)."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import time
import zipfile
from pathlib import Path

from imagevet.vuln.importer import ImportError_, ImportStats, iter_inputs
from tests.support.advisories import RECORDS, archive_of, import_records
from tests.support.cli import IMAGEVET, run_imagevet

MARKER = "EVIL-MARKER-7f3a"  # appears only inside hostile records: it must never be echoed
GOOD = json.loads((RECORDS / "DSA-9001-1.json").read_text())
ENTRY = GOOD["affected"][0]


def with_events(*events: object) -> dict[str, object]:
    return {**GOOD, "affected": [{**ENTRY, "ranges": [{"type": "ECOSYSTEM", "events": list(events)}]}]}


HOSTILE: dict[str, object] = {
    "id-is-a-number.json": {**GOOD, "id": 12345},
    "affected-is-a-dict.json": {**GOOD, "id": MARKER, "affected": {"a": 1}},
    "affected-holds-numbers.json": {**GOOD, "id": MARKER, "affected": [1, 2, 3]},
    "package-is-a-string.json": {**GOOD, "id": MARKER, "affected": [{"package": MARKER}]},
    "ranges-is-a-number.json": {**GOOD, "affected": [{**ENTRY, "ranges": 7}]},
    "versions-is-a-string.json": {**GOOD, "affected": [{**ENTRY, "versions": MARKER}]},
    "events-are-strings.json": with_events(MARKER),
    "event-version-is-a-list.json": with_events({"fixed": [MARKER]}),
    "severity-is-a-number.json": {**GOOD, "id": "DSA-OK-SEV", "severity": 9.8},
    "a-list-not-an-object.json": [GOOD],
    "null.json": None,
}  # fmt: skip


def write_hostile(folder: Path) -> None:
    folder.mkdir()
    for name, record in HOSTILE.items():
        (folder / name).write_text(json.dumps(record))
    (folder / "deep-nesting.json").write_text(
        '{"id": "' + MARKER + '", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    )
    (folder / "lone-surrogate.json").write_text(
        json.dumps({**GOOD, "id": "DSA-\\ud800"}).replace("\\\\ud800", "\\ud800")
    )
    (folder / "not-json.json").write_text(MARKER + " {")
    (folder / "binary.json").write_bytes(b"\xff\xfe" + MARKER.encode() + b"\x00" * 10)
    for record in RECORDS.glob("DSA-*.json"):
        (folder / record.name).write_bytes(record.read_bytes())


def test_malformed_records_of_any_shape_are_skipped_and_named(tmp_path: Path) -> None:
    inputs = tmp_path / "feed"
    write_hostile(inputs)
    database = tmp_path / "osv.sqlite3"
    proc = run_imagevet("db", "import", str(inputs), "--db", str(database))
    assert proc.returncode == 0, proc.stderr
    assert MARKER not in proc.stderr and "Traceback" not in proc.stderr
    skipped = [line for line in proc.stderr.splitlines() if line.startswith("imagevet: skipped ")]
    named = {line.split(": ")[1].rsplit("/", 1)[-1] for line in skipped}
    expected = {n for n in HOSTILE if n != "severity-is-a-number.json"}
    expected |= {"deep-nesting.json", "lone-surrogate.json", "not-json.json", "binary.json"}
    assert named == expected, proc.stderr
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .endswith(f"imported 3 advisories into {database}; skipped {len(expected)}")
    )
    status = json.loads(run_imagevet("db", "status", "--db", str(database), "-f", "json").stdout)
    assert status["records"] == 3  # DSA-9001-1, DSA-9002-1, and the record whose severity is ignored


def test_every_record_malformed_is_exit_2_and_the_database_unchanged(tmp_path: Path) -> None:
    database = tmp_path / "osv.sqlite3"
    import_records(database)
    before = database.read_bytes()
    inputs = tmp_path / "feed"
    inputs.mkdir()
    (inputs / "a.json").write_text(MARKER)
    (inputs / "b.json").write_text(json.dumps({"id": MARKER}))
    proc = run_imagevet("db", "import", str(inputs), "--db", str(database))
    assert proc.returncode == 2 and "nothing imported: all 2 input record(s) were malformed" in proc.stderr
    assert MARKER not in proc.stderr
    assert database.read_bytes() == before


def test_an_oversized_zip_member_is_skipped_without_reading_it(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("huge.json", b" " * (17 * 1024 * 1024))  # compresses to a few KiB
        out.write(RECORDS / "DSA-9001-1.json", "DSA-9001-1.json")
    proc = run_imagevet("db", "import", str(archive), "--db", str(tmp_path / "osv.sqlite3"))
    assert proc.returncode == 0 and "huge.json: record larger than 16 MiB" in proc.stderr


def many_records(destination: Path, count: int) -> Path:
    """An all.zip of ``count`` distinct valid records (copies of a fixture under new ids)."""
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_STORED) as out:
        for index in range(count):
            out.writestr(f"DSA-{index}.json", json.dumps({**GOOD, "id": f"DSA-{index}-1"}))
    return destination


def test_sigterm_during_an_import_leaves_the_previous_database_and_no_temporary_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    database = data / "osv.sqlite3"
    import_records(database)
    before = database.read_bytes()
    archive = many_records(tmp_path / "all.zip", 150_000)
    process = subprocess.Popen(
        [*IMAGEVET, "db", "import", str(archive), "--db", str(database)],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(data.iterdir())) < 2:
        time.sleep(0.05)  # wait until the import's temporary copy exists: it is under way
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip().splitlines()[-1] == "imagevet: terminated"
    assert database.read_bytes() == before
    assert sorted(p.name for p in data.iterdir()) == ["osv.sqlite3"]


def test_every_single_byte_flip_of_an_archive_is_refused_or_read_never_a_crash(tmp_path: Path) -> None:
    """A damaged all.zip (a bad download, a bad disk) is refused by name, whatever the damage: a flipped
    byte in deflate data can fail the CRC (BadZipFile) or the inflate itself (zlib.error); in a header it
    can make a member's name, size or offset a lie. Every byte of a small archive is flipped in turn."""
    archive = archive_of(RECORDS, tmp_path / "all.zip")
    data = archive.read_bytes()
    refused = 0
    for offset in range(len(data)):
        damaged = bytearray(data)
        damaged[offset] ^= 0xFF
        archive.write_bytes(bytes(damaged))
        stats = ImportStats()
        try:
            for _ in iter_inputs([archive], stats):
                pass
        except ImportError_ as exc:
            assert str(exc).startswith(f"{archive}: "), exc
            refused += 1
    assert refused > len(data) // 2  # most bytes are deflate data: the CRC or the inflate catch them


class _Unseekable(io.RawIOBase):
    """A file zipfile cannot seek in: it then writes each member's sizes and CRC after its data (a data
    descriptor, flag bit 3) and zeros in the local header, as streaming writers do."""

    def __init__(self, target: io.BufferedWriter) -> None:
        self.target = target

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self.target.write(data)


def test_members_of_every_layout_read_the_same(tmp_path: Path) -> None:
    """Deflated, stored, and streamed with data descriptors (zeros where the local header's sizes go): the
    reader takes sizes and CRC from the central directory, as zipfile does."""
    records = {p.name: p.read_bytes() for p in sorted(RECORDS.glob("*.json"))}
    streamed = tmp_path / "streamed.zip"
    with streamed.open("wb") as raw, zipfile.ZipFile(_Unseekable(raw), "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in records.items():
            out.writestr(name, data)
    assert all(info.flag_bits & 0x08 for info in zipfile.ZipFile(streamed).infolist())
    stored = tmp_path / "stored.zip"
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as out:
        for name, data in records.items():
            out.writestr(name, data)
    for archive in (streamed, stored, archive_of(RECORDS, tmp_path / "deflated.zip")):
        read = dict(iter_inputs([archive], ImportStats()))
        assert read == {f"{archive.name}:{name}": data for name, data in records.items()}
