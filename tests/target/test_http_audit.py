"""Disk images audited by URL end to end: a real nginx serves the image file, the audit reads it through
range requests and must equal the audit of the directory it was made from, check by check, while fetching
only a small part of the file (proved from nginx's access log)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagevet.target.blocks import RemoteOptions
from tests.conftest import AS_OF, FIXTURES
from tests.support.disks import (
    audit_statuses,
    cached_debian_disk,
    configuration_checks,
    disk_tools_available,
    make_disk,
)
from tests.support.nginx import Nginx, require_nginx, self_signed, start_nginx
from tests.target.refusal import assert_refused

pytestmark = pytest.mark.real
HARDENED = FIXTURES / "rootfs/hardened-debian"
OPTIONS = RemoteOptions(timeout=10.0)


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    require_nginx()
    if not disk_tools_available():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")


statuses = audit_statuses


@pytest.fixture(scope="module")
def debian_qcow2(debian_root: Path) -> Path:
    """The Debian root's GPT qcow2 (the same cached file as tests/target/test_disks.py's)."""
    return cached_debian_disk(debian_root)


@pytest.fixture(scope="module")
def debian_served(debian_qcow2: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    www = tmp_path_factory.mktemp("debian-www")
    (www / "gpt.qcow2").symlink_to(debian_qcow2)  # nginx follows it (disable_symlinks is off)
    with start_nginx(tmp_path_factory.mktemp("nginx-debian"), www) as server:
        yield server


@pytest.fixture(scope="module")
def hardened_disks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hardened-debian fixture as 64 MiB disks: raw (MBR), qcow2, VMDK and VHD fixed/dynamic (GPT)."""
    www = tmp_path_factory.mktemp("hardened-www")
    make_disk(HARDENED, www / "mbr.raw", label="dos", size_mib=64, fmt="raw")
    make_disk(HARDENED, www / "gpt.qcow2", size_mib=64)
    make_disk(HARDENED, www / "gpt.vmdk", size_mib=64, fmt="vmdk")
    raw = make_disk(HARDENED, www / "gpt.raw", size_mib=64, fmt="raw")
    for sub in ("fixed", "dynamic"):
        subprocess.run(
            ["qemu-img", "convert", "-O", "vpc", "-o", f"subformat={sub}", str(raw), str(www / f"{sub}.vhd")],
            check=True,
            capture_output=True,
        )
    return www


@pytest.fixture(scope="module")
def hardened_served(hardened_disks: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    with start_nginx(tmp_path_factory.mktemp("nginx-hardened"), hardened_disks) as server:
        yield server


def fetched(server: Nginx, name: str, requests: int) -> tuple[int, int]:
    """Bytes nginx sent for ``name`` and its requests, from the access log (all 206 range answers)."""
    entries = [e for e in server.entries(at_least=requests, wait=5) if e.uri == f"/{name}"]
    assert {e.status for e in entries} == {206}, entries[:5]
    assert all(e.range is not None for e in entries)
    return sum(e.bytes for e in entries), len(entries)


def test_debian_qcow2_by_url_audits_like_the_directory(
    debian_root: Path, debian_served: Nginx, debian_qcow2: Path
) -> None:
    expected, _ = statuses(str(debian_root), None, configuration_checks())
    debian_served.clear_log()
    started = time.monotonic()
    got, source = statuses(f"{debian_served.base_url}/gpt.qcow2", OPTIONS, configuration_checks())
    elapsed = time.monotonic() - started
    assert got == expected
    assert source is not None and source.kind == "http" and source.size == debian_qcow2.stat().st_size
    sent, requests = fetched(debian_served, "gpt.qcow2", source.requests)
    share = sent / source.size
    print(
        f"\ndebian qcow2 by URL: fetched {sent} of {source.size} bytes ({share:.2%}) in {requests} requests, "
        f"{elapsed:.2f} s"
    )
    assert (sent, requests) == (source.fetched_bytes, source.requests)
    assert share < 0.10


FORMATS = [
    pytest.param("mbr.raw", id="raw-mbr"),
    pytest.param("gpt.qcow2", id="qcow2"),
    pytest.param("gpt.vmdk", id="vmdk"),
    pytest.param("fixed.vhd", id="vhd-fixed"),
    pytest.param("dynamic.vhd", id="vhd-dynamic"),
]


@pytest.mark.parametrize("name", FORMATS)
def test_hardened_disks_by_url_audit_like_the_directory(hardened_served: Nginx, name: str) -> None:
    expected, _ = statuses(str(HARDENED))
    hardened_served.clear_log()
    got, source = statuses(f"{hardened_served.base_url}/{name}", OPTIONS)
    assert got == expected
    assert source is not None
    sent, requests = fetched(hardened_served, name, source.requests)
    share = sent / source.size
    print(f"\n{name} by URL: fetched {sent} of {source.size} bytes ({share:.2%}) in {requests} requests")
    assert (sent, requests) == (source.fetched_bytes, source.requests)
    if source.size >= 32 << 20:  # the 64 MiB raw and fixed VHD (the sparse formats hold under 13 MiB)
        assert share < 0.10


def test_https_and_the_disk_prefix(
    hardened_disks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with start_nginx(tmp_path / "nginx", hardened_disks, tls=(cert, key)) as server:
        got, source = statuses(f"disk:{server.base_url}/gpt.qcow2?X-Amz-Signature=abc", OPTIONS)
    assert got == statuses(str(HARDENED))[0]
    assert source is not None and source.location == f"{server.base_url}/gpt.qcow2?…"
    assert dict(source.details)["etag"].startswith('"')


# ---- the CLI ----------------------------------------------------------------------------------------
def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "IMAGEVET_BLOCK_CACHE": str(tmp_path / "blocks")}


def test_cli_audits_a_url(hardened_served: Nginx, tmp_path: Path) -> None:
    from tests.support.cli import run_imagevet

    proc = run_imagevet(
        "audit",
        f"{hardened_served.base_url}/gpt.qcow2",
        "-f",
        "json",
        AS_OF,
        env=_env(tmp_path),
    )
    assert proc.returncode in (0, 1), proc.stderr[-1000:]
    document = json.loads(proc.stdout)
    local = run_imagevet("audit", str(HARDENED), "-f", "json", AS_OF, env=_env(tmp_path))
    assert proc.returncode == local.returncode
    results = {r["check"]: r["status"] for r in document["results"]}
    assert results == {r["check"]: r["status"] for r in json.loads(local.stdout)["results"]}


def test_cli_report_holds_no_signature(hardened_served: Nginx, tmp_path: Path) -> None:
    from tests.support.cli import run_imagevet

    url = f"{hardened_served.base_url}/gpt.qcow2?sv=2024&sig=TOPSECRETSIG"
    proc = run_imagevet("audit", url, "-f", "json", AS_OF, env=_env(tmp_path))
    assert proc.returncode in (0, 1), proc.stderr[-1000:]
    assert "TOPSECRETSIG" not in proc.stdout + proc.stderr


def test_cli_refuses_a_server_without_ranges(hardened_disks: Path, tmp_path: Path) -> None:
    with start_nginx(tmp_path / "nginx", hardened_disks, ranges=False) as server:
        url = f"{server.base_url}/gpt.qcow2"
        line = assert_refused(f"{url}?sig=SECRETSIG", url, env=_env(tmp_path), within=20)
    assert line == (
        f"imagevet: error: {url}?…: the server does not support range requests; "
        "pass --download to fetch the whole file"
    )
    print(f"\nexit 2: {line}")


def test_cli_download_fetches_a_server_without_ranges_whole(hardened_disks: Path, tmp_path: Path) -> None:
    """`--download`: the same audit as over ranges, from a nameless private copy; the report says the
    whole file was fetched, and nothing is left behind in the temporary directory."""
    from tests.support.cli import run_imagevet

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**_env(tmp_path), "TMPDIR": str(scratch)}
    with start_nginx(tmp_path / "nginx", hardened_disks, ranges=False) as server:
        url = f"{server.base_url}/gpt.qcow2"
        proc = run_imagevet("audit", url, "--download", "-f", "json", AS_OF, env=env)
    assert proc.returncode in (0, 1), proc.stderr[-1000:]
    document = json.loads(proc.stdout)
    size = (hardened_disks / "gpt.qcow2").stat().st_size
    assert document["target"]["source"]["bytes_fetched"] == size
    local = run_imagevet("audit", str(HARDENED), "-f", "json", AS_OF, env=env)
    assert {r["check"]: r["status"] for r in document["results"]} == {
        r["check"]: r["status"] for r in json.loads(local.stdout)["results"]
    }
    assert list(scratch.iterdir()) == []


def test_cli_attest_of_a_url_needs_a_digest(hardened_served: Nginx, tmp_path: Path) -> None:
    """A remote image is read in parts, so imagevet cannot compute its digest: one line, exit 2."""
    from tests.support.cli import run_imagevet

    keygen = run_imagevet("attest", "keygen", "--output-dir", str(tmp_path), env=_env(tmp_path))
    assert keygen.returncode == 0, keygen.stderr
    url = f"{hardened_served.base_url}/gpt.qcow2?sig=SECRET"
    key = str(tmp_path / "imagevet.key")
    proc = run_imagevet("attest", url, "--image-id", "img-1", "--key", key, env=_env(tmp_path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--digest sha256:" in lines[0] and "SECRET" not in proc.stderr
