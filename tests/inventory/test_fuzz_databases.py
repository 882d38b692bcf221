"""Property-based fuzzing of every package database reader (hypothesis, bounded for CI).

Whatever the bytes: a value, or the reader's own error (DpkgError, ApkError, RpmHeaderError, RpmdbError,
and InventoryError end to end), never another exception, within a time and memory bound. The dpkg
reader is also fuzzed *differentially*: on generated status files it must accept, refuse and list
exactly what the real ``dpkg-query`` does.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import struct
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from imagevet.inventory.apk import ApkError, parse_apk_installed
from imagevet.inventory.collect import InventoryError, collect_inventory
from imagevet.inventory.dpkgdb import Database, DpkgError, load_status, load_update
from imagevet.inventory.rpmdb import RpmdbError, read_bdb, read_ndb, read_sqlite
from imagevet.inventory.rpmheader import RpmHeaderError, parse_header
from imagevet.target import RootfsTarget
from tests.inventory.dpkg_oracle import admindir, dpkg_available, dpkg_query

T = TypeVar("T")
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def bounded(call: Callable[[], T], seconds: float = 1.0, megabytes: float = 64) -> T:
    """Run ``call``; fail if it takes longer than ``seconds`` or allocates more than ``megabytes``."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        return call()
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < seconds, f"{elapsed:.2f} s"
        assert peak < megabytes * 1024 * 1024, f"{peak / 1e6:.1f} MB"


# ---- dpkg -------------------------------------------------------------------------------------------
FIELD_NAMES = [
    "Package",
    "Status",
    "Version",
    "Architecture",
    "Multi-Arch",
    "Depends",
    "Conffiles",
    "Config-Version",
    "Triggers-Pending",
    "Triggers-Awaited",
    "Source",
    "Description",
    "Maintainer",
    "Essential",
    "Priority",
    "Provides",
    "Revision",
    "x",
    "Xy",
    "-a",
    "",
]
VALUES = [
    "a",
    "b",
    "A",
    "install ok installed",
    "deinstall ok config-files",
    "purge ok not-installed",
    "install ok half-installed",
    "install ok unpacked",
    "install ok triggers-pending",
    "install ok triggers-awaited",
    "1.0-1",
    "1:2",
    "2:",
    "-1",
    "1 2",
    "abc",
    "amd64",
    "i386",
    "all",
    "same",
    "foreign",
    "yes",
    "no",
    "b (>= 1), c | d",
    "b [x]",
    "b (",
    "\n /etc/x 12",
    "\n /e",
    "foo",
    "",
    "t1 t2",
    "b:any",
    "\n more\n .",
    "\x1a",
    "\0",
    "\xe9",
]
STANZA = st.lists(
    st.tuples(
        st.sampled_from(FIELD_NAMES),
        st.sampled_from(VALUES),
        st.sampled_from([": ", ":", " : ", "\t:\t", " "]),
    ),
    min_size=1,
    max_size=8,
).map(lambda fields: "".join(f"{n}{sep}{v}\n" for n, v, sep in fields))
STATUS = st.lists(STANZA, max_size=5).map("\n".join) | st.text(
    alphabet=st.sampled_from(list("Pkg:ae \t\n\x1a-1.V")), max_size=60
)
TAIL = st.sampled_from(["", "\n", "\n\n", "X", " ", "\t\n"])


@FUZZ
@given(STATUS, TAIL)
def test_dpkg_status_only_dpkg_errors(text: str, tail: str) -> None:
    def run() -> None:
        try:
            load_status(Database(), text + tail)
            load_update(Database(), text + tail)
        except DpkgError:
            pass

    bounded(run)


@pytest.mark.real
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STATUS, TAIL)
def test_dpkg_differential_against_dpkg_query(text: str, tail: str) -> None:
    if not dpkg_available():
        pytest.skip("dpkg-query is not installed")
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        directory = admindir(root, (text + tail).encode("latin-1"))
        try:
            from imagevet.inventory.dpkg import read_dpkg

            found = read_dpkg(RootfsTarget(work))
            ours = None if found is None else {(p.name, p.arch, p.version) for p in found[0]}
        except InventoryError:
            ours = None
        assert ours == dpkg_query(directory)


# ---- apk --------------------------------------------------------------------------------------------
APK_LINES = [
    "C:Q1zwvKMnYs1b6ZdPTBJ0Z7D5P3jyA=",
    "C:Q1abc",
    "P:musl",
    "P:",
    "V:1.2-r0",
    "V:",
    "A:x86_64",
    "o:musl",
    "F:lib",
    "R:ld.so",
    "a:0:0:755",
    "a:0",
    "M:0:0:755",
    "Z:Q1SLkS9hBidUbPwwrw+XR0Whv3ww8=",
    "Z:bad",
    "f:fs",
    "f:q",
    "r:x",
    "q:1",
    "Y:new",
    "y:new",
    "",
    "x",
    "xy",
    "P:b\x85P:c",
]


@FUZZ
@given(st.lists(st.sampled_from(APK_LINES), max_size=30).map("\n".join), st.sampled_from(["", "\n", "\n\n"]))
def test_apk_only_apk_errors(text: str, tail: str) -> None:
    def run() -> None:
        with contextlib.suppress(ApkError):
            parse_apk_installed(text + tail)

    bounded(run)


@FUZZ
@given(st.text(max_size=300))
def test_apk_arbitrary_text(text: str) -> None:
    with contextlib.suppress(ApkError):
        bounded(lambda: parse_apk_installed(text))


# ---- rpm header blobs -------------------------------------------------------------------------------
def make_header(tags: list[tuple[int, int, bytes, int]]) -> bytes:
    """An rpm header: (tag, type, data, count) entries, data stored in order."""
    index, store = b"", b""
    for tag, kind, data, count in tags:
        index += struct.pack(">IIII", tag, kind, len(store), count)
        store += data
    return struct.pack(">II", len(tags), len(store)) + index + store


GOOD_HEADER = make_header(
    [
        (1000, 6, b"bash\0", 1),
        (1001, 6, b"5.2\0", 1),
        (1002, 6, b"1.el9\0", 1),
        (1003, 4, struct.pack(">i", 1), 1),
        (1022, 6, b"x86_64\0", 1),
    ]
)


@FUZZ
@given(st.binary(max_size=400))
def test_rpm_header_arbitrary_bytes(blob: bytes) -> None:
    with contextlib.suppress(RpmHeaderError):
        bounded(lambda: parse_header(blob))


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, len(GOOD_HEADER) - 1), st.integers(0, 255)), max_size=6),
    st.integers(0, len(GOOD_HEADER)),
)
def test_rpm_header_mutations(flips: list[tuple[int, int]], cut: int) -> None:
    blob = bytearray(GOOD_HEADER)
    for offset, value in flips:
        blob[offset] = value
    with contextlib.suppress(RpmHeaderError):
        bounded(lambda: parse_header(bytes(blob[:cut])))


def _mutate(data: bytes, flips: list[tuple[int, int]], cut: int) -> bytes:
    out = bytearray(data)
    for offset, value in flips:
        out[offset % len(out)] = value
    return bytes(out[: max(cut, 0)])


@pytest.mark.parametrize(
    ("sample", "reader"),
    [
        ("bdb-centos8-dive-syft/Packages", read_bdb),
        ("ndb-sles15-bci-gorpmdb/Packages.db", read_ndb),
    ],
)
def test_rpm_bdb_ndb_mutations(shared_data: Path, sample: str, reader: Callable[[bytes], object]) -> None:
    data = (shared_data / "pkgdb/rpm" / sample).read_bytes()

    @FUZZ
    @given(
        st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), max_size=12),
        st.integers(0, len(data)),
    )
    def check(flips: list[tuple[int, int]], cut: int) -> None:
        mutated = _mutate(data, flips, cut)
        with contextlib.suppress(RpmdbError):
            bounded(lambda: list(reader(mutated)))  # type: ignore[call-overload]

    check()


def _small_sqlite() -> bytes:
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "rpmdb.sqlite")
        with sqlite3.connect(path) as connection:
            connection.execute(
                "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)"
            )
            for _ in range(20):
                connection.execute("INSERT INTO Packages (blob) VALUES (?)", (GOOD_HEADER,))
        connection.close()
        return Path(path).read_bytes()


SQLITE = _small_sqlite()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(0, len(SQLITE) - 1), st.integers(0, 255)), max_size=8),
    st.integers(0, len(SQLITE)),
)
@example(flips=[(4016, 128)], cut=8193)  # the schema's text made invalid UTF-8 (found by this test)
def test_rpm_sqlite_mutations(flips: list[tuple[int, int]], cut: int) -> None:
    mutated = _mutate(SQLITE, flips, cut)
    try:
        headers = bounded(lambda: read_sqlite(mutated), seconds=2.0)
    except RpmdbError:
        return
    assert all(h.name for h in headers)


def test_rpm_sqlite_schema_that_is_not_utf8_is_refused_without_its_bytes() -> None:
    at = SQLITE.index(b"CREATE TABLE") + 3
    mutated = SQLITE[:at] + b"\x80" + SQLITE[at + 1 :]
    with pytest.raises(RpmdbError, match="not UTF-8") as caught:
        read_sqlite(mutated)
    assert "0x80" not in str(caught.value)


# ---- end to end -------------------------------------------------------------------------------------
PATHS = st.sampled_from(
    [
        "/var/lib/dpkg/status",
        "/var/lib/dpkg/updates/0000",
        "/var/lib/dpkg/status.d/x",
        "/lib/apk/db/installed",
        "/var/lib/rpm/Packages",
        "/var/lib/rpm/rpmdb.sqlite",
        "/usr/lib/sysimage/rpm/Packages.db",
        "/var/lib/rpm/rpmdb.sqlite-wal",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(PATHS, st.binary(max_size=600) | STATUS.map(str.encode), max_size=3))
def test_collect_inventory_only_inventory_errors(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as work:
        for path, data in files.items():
            target = Path(work) / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            bounded(lambda: collect_inventory(RootfsTarget(work), None), seconds=2.0)
        except InventoryError as exc:
            assert "\n" not in str(exc)
