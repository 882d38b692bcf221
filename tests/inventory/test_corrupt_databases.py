"""Hostile and broken package databases, tried as a user runs imagevet: ``imagevet packages ROOT``.

Each case must end with exit 2 and exactly one line on stderr that starts ``imagevet: error:``, names the
database file, says nothing of the refused bytes (every hostile file carries a marker, with a terminal
escape, that must not come back), answers quickly, and lists nothing. Fixtures are written here; the
valid parts come from the real tools (the debootstrap root's status file made by dpkg, rpm-built
headers) where a case needs them.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import run_imagevet

MARKER = "EVIL\x1b[2J"  # must never be echoed
H = "Maintainer: m\nDescription: d\n"
DPKG_OK = "Package: good\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n" + H
OS_RELEASE = {
    "debian": 'ID=debian\nVERSION_ID="12"\n',
    "alpine": "ID=alpine\nVERSION_ID=3.19.1\n",
    "rhel": 'ID=rocky\nVERSION_ID="9.3"\nID_LIKE="rhel centos fedora"\n',
}


def write(root: Path, path: str, data: bytes | str) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data.encode("latin-1") if isinstance(data, str) else data)
    return target


def assert_refused(root: Path, database: str, *, family: str = "debian") -> str:
    write(root, "/etc/os-release", OS_RELEASE[family])
    started = time.monotonic()
    proc = run_imagevet("packages", str(root), "--format", "json", timeout=30)
    elapsed = time.monotonic() - started
    assert proc.returncode == 2, (proc.returncode, proc.stdout[:300], proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("imagevet: error: "), proc.stderr
    assert database in lines[0], lines[0]
    assert "EVIL" not in proc.stderr and "\x1b" not in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert elapsed < 15  # an interpreter start plus a bounded read; the hostile ones must not hang
    return lines[0]


# ---- dpkg -------------------------------------------------------------------------------------------
STATUS = "/var/lib/dpkg/status"
DPKG_CASES: dict[str, Callable[[Path], None]] = {
    "truncated_mid_field": lambda r: write(r, STATUS, DPKG_OK + "\nPackage: " + MARKER + "\nStatus: inst"),
    "garbage_line": lambda r: write(r, STATUS, DPKG_OK + MARKER + " no colon here\n"),
    "binary": lambda r: write(r, STATUS, bytes(range(256)) * 64),
    "zero_filled_block": lambda r: write(
        r, STATUS, DPKG_OK.encode() + b"\0" * 4096 + b"\n" + DPKG_OK.encode()
    ),
    "bad_version": lambda r: write(
        r, STATUS, DPKG_OK.replace("1.0", "1:" + MARKER.replace("\x1b", "") + " x")
    ),
    "duplicate_instance": lambda r: write(r, STATUS, DPKG_OK + "\n" + DPKG_OK.replace("amd64", "i386")),
    "no_package_field": lambda r: write(
        r, STATUS, DPKG_OK + "\nStatus: install ok installed\nVersion: 1\n" + H
    ),
    "status_is_a_directory": lambda r: (r / STATUS.lstrip("/")).mkdir(parents=True),
    "status_is_a_fifo": lambda r: (_parent(r, STATUS), os.mkfifo(r / STATUS.lstrip("/"))),
    "status_link_loop": lambda r: (_parent(r, STATUS), os.symlink("status", r / STATUS.lstrip("/"))),
    "status_link_outside": lambda r: (
        _parent(r, STATUS),
        os.symlink("/etc/" + "passwd-nothere", r / STATUS.lstrip("/")),
    ),
    "status_removed_dpkg_installed": lambda r: (
        write(r, "/usr/bin/dpkg", b"\x7fELF"),
        write(r, "/var/lib/dpkg/info/x.list", "/x\n"),
    ),
    "corrupt_update_journal": lambda r: (
        write(r, STATUS, DPKG_OK),
        write(r, "/var/lib/dpkg/updates/0000", MARKER + "\n"),
    ),
    "oversized_status": lambda r: _sparse(r, STATUS, 65 * 1024 * 1024),
}


def _parent(root: Path, path: str) -> None:
    (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)


def _sparse(root: Path, path: str, size: int) -> None:
    _parent(root, path)
    with open(root / path.lstrip("/"), "wb") as handle:
        handle.truncate(size)


@pytest.mark.parametrize("case", sorted(DPKG_CASES))
def test_dpkg_database_refused(case: str, tmp_path: Path) -> None:
    DPKG_CASES[case](tmp_path)
    line = assert_refused(tmp_path, "/var/lib/dpkg/")
    if case not in (
        "binary",
        "status_is_a_directory",
        "status_is_a_fifo",
        "status_link_loop",
        "status_link_outside",
    ):
        assert "dpkg" in line


def test_distroless_status_d_unreadable_entry(tmp_path: Path) -> None:
    write(tmp_path, "/var/lib/dpkg/status.d/good", DPKG_OK)
    os.mkfifo(tmp_path / "var/lib/dpkg/status.d/evil")
    assert_refused(tmp_path, "/var/lib/dpkg/status.d/evil")


def test_status_with_a_huge_value_is_read_in_bounded_time(tmp_path: Path) -> None:
    """A 60 MB Description (under the 64 MiB cap): read and judged well within the time limit."""
    write(
        tmp_path,
        STATUS,
        DPKG_OK.replace("Description: d\n", "Description: d\n" + " x\n" * (20 * 1024 * 1024)),
    )
    write(tmp_path, "/etc/os-release", OS_RELEASE["debian"])
    started = time.monotonic()
    proc = run_imagevet("packages", str(tmp_path), "--format", "json", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 20
    assert '"name": "good"' in proc.stdout


# ---- apk --------------------------------------------------------------------------------------------
APK = "/lib/apk/db/installed"
APK_OK = "C:Q1zwvKMnYs1b6ZdPTBJ0Z7D5P3jyA=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n"
APK_CASES: dict[str, Callable[[Path], None]] = {
    "truncated": lambda r: write(r, APK, APK_OK + "C:Q1abc\nP:" + MARKER),
    "line_without_colon": lambda r: write(r, APK, APK_OK + MARKER + "\n\n"),
    "no_version": lambda r: write(r, APK, APK_OK + "P:" + MARKER + "\n\n"),
    "checksum_hides_package": lambda r: write(r, APK, APK_OK + APK_OK.replace("P:musl", "P:openssl")),
    "unknown_field_after_files": lambda r: write(
        r, APK, APK_OK.replace("o:musl\n", "o:musl\nF:lib\nR:x\nY:" + MARKER + "\n")
    ),
    "file_before_directory": lambda r: write(
        r, APK, APK_OK.replace("o:musl\n", "o:musl\nR:" + MARKER + "\n")
    ),
    "binary": lambda r: write(r, APK, bytes(range(256)) * 16),
    "fifo": lambda r: (_parent(r, APK), os.mkfifo(r / APK.lstrip("/"))),
    "removed_apk_installed": lambda r: write(r, "/sbin/apk", b"\x7fELF"),
}


@pytest.mark.parametrize("case", sorted(APK_CASES))
def test_apk_database_refused(case: str, tmp_path: Path) -> None:
    APK_CASES[case](tmp_path)
    assert_refused(tmp_path, "/lib/apk/db/installed", family="alpine")


# ---- rpm --------------------------------------------------------------------------------------------
RPMDB = "/var/lib/rpm/rpmdb.sqlite"


def _sqlite(root: Path, statements: list[str], path: str = RPMDB) -> None:
    _parent(root, path)
    with sqlite3.connect(root / path.lstrip("/")) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


RPM_CASES: dict[str, Callable[[Path], None]] = {
    "garbage": lambda r: write(r, RPMDB, (MARKER * 1000).encode()),
    "no_packages_table": lambda r: _sqlite(r, ["CREATE TABLE Other (x)"]),
    "view_that_never_ends": lambda r: _sqlite(
        r,
        [
            "CREATE VIEW Packages AS WITH RECURSIVE n(hnum) AS (SELECT 1 UNION ALL SELECT hnum + 1 FROM n) "
            "SELECT hnum, zeroblob(16) AS blob FROM n"
        ],
    ),
    "generated_huge_blob": lambda r: _sqlite(
        r,
        [
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB AS (zeroblob(1000000000)))",
            "INSERT INTO Packages (hnum) VALUES (1)",
        ],
    ),
    "text_instead_of_blob": lambda r: _sqlite(
        r,
        [
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)",
            f"INSERT INTO Packages VALUES (1, '{MARKER}')",
        ],
    ),
    "corrupt_header_blob": lambda r: _sqlite(
        r,
        [
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)",
            "INSERT INTO Packages VALUES (1, X'0000000300000010" + MARKER.encode().hex() + "')",
        ],
    ),
    "two_databases": lambda r: (
        _sqlite(r, ["CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB)"]),
        write(r, "/var/lib/rpm/Packages", b"\0" * 8192),
    ),
    "removed_rpm_installed": lambda r: write(r, "/usr/bin/rpm", b"\x7fELF"),
}


@pytest.mark.parametrize("case", sorted(RPM_CASES))
def test_rpm_database_refused(case: str, tmp_path: Path) -> None:
    RPM_CASES[case](tmp_path)
    assert_refused(tmp_path, "/var/lib/rpm/" if case == "two_databases" else "rpmdb.sqlite", family="rhel")


def test_bdb_cut_at_a_page_boundary(shared_data: Path, tmp_path: Path) -> None:
    """A truncation on a page boundary leaves only valid pages: the meta page's last page number tells."""
    data = (shared_data / "pkgdb/rpm/bdb-rhel8-libuuid-gorpmdb/Packages").read_bytes()
    write(tmp_path, "/var/lib/rpm/Packages", data[: 4096 * 10])
    line = assert_refused(tmp_path, "/var/lib/rpm/Packages", family="rhel")
    assert "truncated" in line


def test_empty_but_valid_databases_are_not_errors(tmp_path: Path) -> None:
    """The other side of the gate: an empty dpkg status (as debootstrap starts it) is 0 packages."""
    write(tmp_path, STATUS, "")
    write(tmp_path, "/etc/os-release", OS_RELEASE["debian"])
    proc = run_imagevet("packages", str(tmp_path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert '"packages": []' in proc.stdout


def test_audit_with_a_corrupt_database_decides_nothing_on_packages(tmp_path: Path) -> None:
    """In ``imagevet audit`` the refused database makes every package check an error naming the file."""
    write(tmp_path, STATUS, DPKG_OK + "\nPackage: b\nStatus: install ok installed\nVersion: 1 2\n")
    write(tmp_path, "/etc/os-release", OS_RELEASE["debian"])
    proc = run_imagevet("audit", str(tmp_path), "--format", "json", "--fail-on", "never", "--profile", "all")
    assert proc.returncode == 0, proc.stderr
    import json

    results = {r["check"]: r for r in json.loads(proc.stdout)["results"]}
    for check in ("packages-insecure-absent", "time-sync-installed", "auditd-installed"):
        assert results[check]["status"] == "error", results[check]
        assert "/var/lib/dpkg/status: line" in results[check]["evidence"][0]["detail"]
