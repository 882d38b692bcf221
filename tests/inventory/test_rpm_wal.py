"""rpm SQLite databases with a write-ahead log: what only the ``-wal`` holds is seen, as rpm sees it, and
nothing is ever written into the image.

How the fixture is made (at test time): rpmbuild builds four tiny packages; ``rpm --root`` installs three
into the image root and the fourth (imagevet-delta) into a second root, which gives us rpm's own header
blob for it. The image's ``rpmdb.sqlite`` is then switched to WAL mode with the sqlite3 module and the
delta header inserted in a transaction whose commit stays in ``rpmdb.sqlite-wal``: the two files are
copied while the writer still holds the database open, as a snapshot of a running system catches them.
The real ``rpm -qa`` (on a separate copy) is the oracle.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from imagevet.inventory.collect import InventoryError, collect_inventory
from imagevet.target import RootfsTarget
from tests.support.cli import run_imagevet
from tests.support.rpmroot import DELTA, PACKAGES, build_root, rpm_qa, rpm_tools_available

pytestmark = pytest.mark.real
DB = "var/lib/rpm/rpmdb.sqlite"


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture(scope="module")
def wal_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not rpm_tools_available():
        pytest.skip("rpm and rpmbuild are not installed")
    work = tmp_path_factory.mktemp("rpmwal")
    root = build_root(work / "image")
    other = build_root(work / "delta", [DELTA])
    with sqlite3.connect(other / DB) as source:
        ((blob,),) = source.execute("SELECT blob FROM Packages").fetchall()
    staging = work / "staging"
    staging.mkdir()
    shutil.copy(root / DB, staging / "rpmdb.sqlite")
    writer = sqlite3.connect(staging / "rpmdb.sqlite", isolation_level=None)
    try:
        assert writer.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("BEGIN")
        writer.execute(
            "INSERT INTO Packages (hnum, blob) VALUES ((SELECT max(hnum) + 1 FROM Packages), ?)", (blob,)
        )
        writer.execute("COMMIT")
        # The snapshot: the database file and its log, taken while the writer is still open.
        shutil.copy(staging / "rpmdb.sqlite", root / DB)
        shutil.copy(staging / "rpmdb.sqlite-wal", root / (DB + "-wal"))
    finally:
        writer.close()
    assert (root / (DB + "-wal")).stat().st_size > 0
    return root


def test_package_only_in_the_wal_is_listed(wal_root: Path, tmp_path: Path) -> None:
    oracle_copy = tmp_path / "oracle"
    shutil.copytree(wal_root, oracle_copy, symlinks=True)
    real = rpm_qa(oracle_copy)
    assert ("imagevet-delta", "4.0-1", "noarch") in real and len(real) == len(PACKAGES) + 1
    before = snapshot(wal_root)
    inventory = collect_inventory(RootfsTarget(str(wal_root)), None)
    assert {(p.name, p.version, p.arch) for p in inventory.packages} == real
    assert snapshot(wal_root) == before  # byte-identical, and no -shm or other file appeared


def test_without_the_wal_the_package_is_absent(wal_root: Path, tmp_path: Path) -> None:
    """The control: the same database without its log does not list it (so the test above can fail)."""
    copy = tmp_path / "root"
    shutil.copytree(wal_root, copy, symlinks=True)
    (copy / (DB + "-wal")).unlink()
    names = {p.name for p in collect_inventory(RootfsTarget(str(copy)), None).packages}
    assert "imagevet-delta" not in names and len(names) == len(PACKAGES)


def test_packages_command_reads_the_wal_read_only(wal_root: Path) -> None:
    before = snapshot(wal_root)
    proc = run_imagevet("packages", str(wal_root), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert '"imagevet-delta"' in proc.stdout
    assert snapshot(wal_root) == before


def test_truncated_wal_is_an_error_or_the_committed_state(wal_root: Path, tmp_path: Path) -> None:
    """A cut log: SQLite ignores frames after the last valid commit, as rpm would; never a crash."""
    copy = tmp_path / "root"
    shutil.copytree(wal_root, copy, symlinks=True)
    wal = copy / (DB + "-wal")
    wal.write_bytes(wal.read_bytes()[:100])
    try:
        names = {p.name for p in collect_inventory(RootfsTarget(str(copy)), None).packages}
    except InventoryError as exc:
        assert "rpmdb.sqlite" in str(exc)
    else:
        assert names == {p["name"] for p in PACKAGES}
