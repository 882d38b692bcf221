"""The advisory database: import from files, directories and all.zip; update over HTTP (a real server on
127.0.0.1) with failures that must leave the previous database intact; status; and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import jsonschema
import pytest

from imagevet.vuln import db
from imagevet.vuln.download import DownloadError, update
from imagevet.vuln.importer import ImportError_, ImportStats, import_into, iter_inputs
from tests.conftest import FIXTURES
from tests.support.advisories import debian_image_with, fresh_stamp
from tests.support.cli import imagevet_env, run_imagevet
from tests.support.http_server import serve

NOW = fresh_stamp()


def make_archive(folder: Path, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for record in sorted(folder.glob("*.json")):
            archive.write(record, record.name)
    return destination


@pytest.fixture
def mirror(tmp_path: Path, shared_data: Path) -> Path:
    """A directory laid out like OSV's bucket: <ecosystem>/all.zip."""
    root = tmp_path / "mirror"
    make_archive(shared_data / "osv/debian", root / "Debian/all.zip")
    make_archive(shared_data / "osv/almalinux", root / "AlmaLinux/all.zip")
    return root


def test_import_zip_and_status(tmp_path: Path, shared_data: Path) -> None:
    archive = make_archive(shared_data / "osv/almalinux", tmp_path / "all.zip")
    database = tmp_path / "osv.sqlite3"
    stats = ImportStats()
    result = import_into(database, iter_inputs([archive], stats), "zip", NOW)
    assert result.records == 16
    status = db.status(database)
    assert status.records == 16 and status.updated == NOW
    assert [(e.ecosystem, e.records) for e in status.ecosystems] == [("AlmaLinux", 16)]


def test_failed_import_keeps_the_previous_database(tmp_path: Path, shared_data: Path) -> None:
    database = tmp_path / "osv.sqlite3"
    import_into(database, iter_inputs([shared_data / "osv/debian"], ImportStats()), "d", NOW)
    before = database.read_bytes()
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ImportError_):
        import_into(database, iter_inputs([broken], ImportStats()), "b", NOW)
    assert database.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.zip", "osv.sqlite3"]


def test_update_downloads_verifies_and_swaps(tmp_path: Path, mirror: Path) -> None:
    database = tmp_path / "data/osv.sqlite3"
    with serve(mirror) as url:
        result = update(database, ("Debian", "AlmaLinux"), url, NOW)
    assert result.records == 29
    assert {e.ecosystem for e in db.status(database).ecosystems} == {"Debian", "AlmaLinux"}


@pytest.mark.parametrize("fault", ["drop", "truncate", "500", "corrupt-zip"])
def test_failed_update_leaves_the_database_intact(tmp_path: Path, mirror: Path, fault: str) -> None:
    database = tmp_path / "data/osv.sqlite3"
    with serve(mirror) as url:
        update(database, ("Debian",), url, NOW)
    before = database.read_bytes()
    faults = {"AlmaLinux/all.zip": fault}
    if fault == "corrupt-zip":
        data = bytearray((mirror / "AlmaLinux/all.zip").read_bytes())
        data[len(data) // 3] ^= 0xFF  # flip a byte inside a compressed member
        (mirror / "AlmaLinux/all.zip").write_bytes(bytes(data))
        faults = {}
    with serve(mirror, faults) as url, pytest.raises((DownloadError, ImportError_)):
        update(database, ("Debian", "AlmaLinux"), url, NOW, timeout=5)
    assert database.read_bytes() == before
    assert db.status(database).records == 13
    assert sorted(p.name for p in database.parent.iterdir()) == ["osv.sqlite3"]


def test_update_replaces_an_ecosystem_wholesale(tmp_path: Path, mirror: Path) -> None:
    database = tmp_path / "osv.sqlite3"
    with serve(mirror) as url:
        update(database, ("Debian",), url, NOW)
    with zipfile.ZipFile(mirror / "Debian/all.zip") as archive:
        names = archive.namelist()
    with zipfile.ZipFile(mirror / "Debian/all.zip", "w") as archive:
        archive.writestr(names[0], (FIXTURES / "osv/DSA-9001-1.json").read_text())
    with serve(mirror) as url:
        update(database, ("Debian",), url, NOW)
    assert db.status(database).records == 1  # records OSV no longer publishes are gone


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with this environment as it is (an IMAGEVET_DB a test sets must reach it), and NO_COLOR."""
    return run_imagevet(*args, env=imagevet_env(drop=()), timeout=120)


@pytest.fixture
def debian_image(tmp_path: Path) -> Path:
    return debian_image_with(
        tmp_path / "image",
        ("openssh-client", "openssh", "1:9.2p1-2+deb12u4"),
        ("libc6-dev", "glibc", "2.36-9+deb12u4"),
    )


def test_vuln_cli_json_sarif_and_gate(tmp_path: Path, debian_image: Path) -> None:
    database = tmp_path / "osv.sqlite3"
    assert run("db", "import", str(FIXTURES / "osv"), "--db", str(database)).returncode == 0
    proc = run("vuln", str(debian_image), "--db", str(database), "-f", "json")
    assert proc.returncode == 1, proc.stderr  # a critical finding trips the default gate (high)
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "imagevet/vuln/v1" and doc["ecosystem"] == ["Debian:12"]
    assert doc["db"]["records"] == 7
    by_id = {f["id"]: f for f in doc["findings"]}
    assert by_id["DSA-9001-1"]["status"] == "fixed" and by_id["DSA-9001-1"]["severity"] == "critical"
    assert by_id["DEBIAN-CVE-2026-3333"]["status"] == "unfixed"
    assert set(by_id["DSA-9001-1"]) >= {
        "id",
        "aliases",
        "package",
        "source",
        "installed",
        "fixed",
        "severity",
        "score",
        "status",
        "summary",
    }
    unfixed = json.loads(
        run(
            "vuln",
            str(debian_image),
            "--db",
            str(database),
            "-f",
            "json",
            "--ignore-unfixed",
            "--fail-on",
            "never",
        ).stdout
    )
    assert {f["id"] for f in unfixed["findings"]} == {"DSA-9001-1"}
    only_high = json.loads(
        run(
            "vuln",
            str(debian_image),
            "--db",
            str(database),
            "-f",
            "json",
            "--severity",
            "high",
            "--fail-on",
            "never",
        ).stdout
    )
    assert {f["severity"] for f in only_high["findings"]} == {"high"}
    sarif = json.loads(run("vuln", str(debian_image), "--db", str(database), "-f", "sarif").stdout)
    schema = json.loads((Path(__file__).parents[1] / "schemas/sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(sarif)


def test_vuln_waivers_need_reason_and_expiry(tmp_path: Path, debian_image: Path) -> None:
    database = tmp_path / "osv.sqlite3"
    run("db", "import", str(FIXTURES / "osv"), "--db", str(database))
    waivers = tmp_path / "w.yaml"
    waivers.write_text(
        "waivers:\n  - id: CVE-2026-1111\n    reason: compensating control\n    expires: 2099-01-01\n"
        "  - id: DEBIAN-CVE-2026-3333\n    reason: no fix\n    expires: 2099-01-01\n"
    )
    proc = run("vuln", str(debian_image), "--db", str(database), "--waivers", str(waivers), "-f", "json")
    assert proc.returncode == 0, proc.stdout
    summary = json.loads(proc.stdout)["summary"]
    assert summary["total"] == 0 and summary["waived"] == 3  # openssh-client, libc6 and libc6-dev
    waivers.write_text("waivers:\n  - id: CVE-2026-1111\n    reason: no expiry\n")
    proc = run("vuln", str(debian_image), "--db", str(database), "--waivers", str(waivers))
    assert proc.returncode == 2 and "needs an 'expires' date" in proc.stderr


def test_audit_check_updates_pending_security(tmp_path: Path, debian_image: Path) -> None:
    database = tmp_path / "osv.sqlite3"
    run("db", "import", str(FIXTURES / "osv"), "--db", str(database))
    args = ["audit", str(debian_image), "--checks", "updates-pending-security", "-f", "json"]
    result = json.loads(run(*args, "--db", str(database)).stdout)["results"][0]
    assert result["status"] == "fail"
    assert result["evidence"][0]["detail"].startswith("openssh-client 1:9.2p1-2+deb12u4 -> 1:9.2p1-2+deb12u5")
    skipped = json.loads(run(*args, "--db", str(tmp_path / "missing.sqlite3")).stdout)["results"][0]
    assert skipped["status"] == "error" and "no advisory database" in skipped["evidence"][0]["detail"]
    clean = json.loads(
        run(
            "audit",
            str(FIXTURES / "rootfs/hardened-debian"),
            "--checks",
            "updates-pending-security",
            "-f",
            "json",
            "--db",
            str(database),
        ).stdout
    )["results"][0]
    assert clean["status"] == "pass"


def test_db_cli_status_and_errors(tmp_path: Path) -> None:
    database = tmp_path / "osv.sqlite3"
    proc = run("db", "status", "--db", str(database))
    assert proc.returncode == 2 and "no advisory database" in proc.stderr
    run("db", "import", str(FIXTURES / "osv"), "--db", str(database))
    doc = json.loads(run("db", "status", "--db", str(database), "-f", "json").stdout)
    assert doc["records"] == 7 and doc["ecosystems"][0]["ecosystem"] == "Debian"
    proc = run("db", "import", str(tmp_path / "nothing-here"), "--db", str(database))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    proc = run("db", "import", str(FIXTURES / "osv/broken-not-json.json"), "--db", str(database))
    assert proc.returncode == 2 and "nothing imported: all 1 input record(s) were malformed" in proc.stderr
    assert json.loads(run("db", "status", "--db", str(database), "-f", "json").stdout)["records"] == 7
    os.environ["IMAGEVET_DB"] = str(database)
    try:
        assert json.loads(run("db", "status", "-f", "json").stdout)["records"] == 7
    finally:
        del os.environ["IMAGEVET_DB"]
