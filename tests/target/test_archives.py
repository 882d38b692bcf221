"""Container images and rootfs tarballs: same audit as the directory; layers, whiteouts; hostile archives."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.registry import CHECKS
from imagevet.errors import TargetError
from imagevet.model import Unknown
from imagevet.target import open_target
from tests.conftest import AS_OF_DAY, FIXTURES
from tests.support.cli import run_imagevet
from tests.support.debian_root import cache_root, fixture_key
from tests.support.images import (
    file_entry,
    layer_bytes,
    make_docker_archive,
    make_oci_layout,
    special_entry,
    tar_of,
)


def results(spec: str) -> list[tuple[str, str, tuple[str, ...]]]:
    target = open_target(spec)
    try:
        report = run_audit(target, CheckOptions(AS_OF_DAY), list(CHECKS))
    finally:
        target.close()
    return [(r.check, r.status.value, tuple(str(e) for e in r.evidence)) for r in report.results]


@pytest.fixture(scope="session")
def packed(debian_root: Path) -> dict[str, str]:
    """The debootstrap root as docker-archive, OCI layout and tarball, cached beside it."""
    folder = cache_root() / f"debian12-{fixture_key()}" / "packed"
    specs = {
        "docker": f"docker-archive:{folder / 'image.tar'}",
        "oci": f"oci:{folder / 'oci'}@bookworm",
        "tar": f"tar:{folder / 'rootfs.tar'}",
    }
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        layer = layer_bytes(debian_root)
        make_docker_archive([layer], folder / "image.tar")
        make_oci_layout([layer], folder / "oci", tag="bookworm")
        (folder / "rootfs.tar").write_bytes(layer)
        (folder / "done").write_text("ok")
    return specs


@pytest.mark.real
@pytest.mark.parametrize("kind", ["docker", "oci", "tar"])
def test_archives_audit_like_the_directory(debian_root: Path, packed: dict[str, str], kind: str) -> None:
    archive = {r[0]: r for r in results(packed[kind])}
    directory = {r[0]: r for r in results(str(debian_root))}
    container = archive.pop("container-user")
    assert directory.pop("container-user")[1] == "skip"
    # A container image has no mount table or services of its own (its runtime mounts /dev/shm and starts
    # its processes); a tarball or directory is judged like a system.
    own = ("mount-", "service-", "dev-shm-")
    for check in ["tmp-separate", *(c for c in directory if c.startswith(own))]:
        tmp = archive.pop(check)
        assert tmp[1] == directory.pop(check)[1] or (kind != "tar" and tmp[1] == "skip"), check
    assert archive == directory
    # docker-archive and OCI carry an image config whose User is empty: the container runs as root.
    assert container[1] == ("skip" if kind == "tar" else "fail")


def _layered(tmp_path: Path, layers: list[bytes]) -> str:
    return f"docker-archive:{make_docker_archive(layers, tmp_path / 'image.tar')}"


def test_whiteouts_and_opaque_directories(tmp_path: Path) -> None:
    base = tar_of(
        [
            file_entry("etc/a", "a"),
            file_entry("etc/keep", "keep"),
            file_entry("etc/dir/x", "x"),
            file_entry("etc/dir/sub/z", "z"),
        ]
    )
    upper = tar_of(
        [
            special_entry("etc/.wh.a", tarfile.REGTYPE),
            special_entry("etc/dir/.wh..wh..opq", tarfile.REGTYPE),
            file_entry("etc/dir/y", "y"),
            file_entry("etc/keep", "new"),
        ]
    )
    target = open_target(_layered(tmp_path, [base, upper]))
    assert not target.exists("/etc/a")
    assert target.list_dir("/etc/dir") == ["y"]
    assert target.read_text("/etc/keep") == "new"  # upper layer wins


def test_hard_and_symbolic_links(tmp_path: Path) -> None:
    layer = tar_of(
        [
            file_entry("etc/shadow", "image shadow\n"),
            special_entry("etc/hard", tarfile.LNKTYPE, "etc/shadow"),
            special_entry("etc/abs", tarfile.SYMTYPE, "/etc/shadow"),
            special_entry("etc/up", tarfile.SYMTYPE, "../../../../etc/shadow"),
            special_entry("dev/null", tarfile.CHRTYPE),
        ]
    )
    target = open_target(_layered(tmp_path, [layer]))
    assert target.read_text("/etc/hard") == "image shadow\n"
    assert target.read_text("/etc/abs") == "image shadow\n"  # re-rooted in the image, never the host's
    assert target.read_text("/etc/up") == "image shadow\n"
    assert isinstance(target.read_text("/dev/null"), Unknown)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (file_entry("../../../tmp/evil", "x"), "climbs out"),
        (file_entry("etc/../../evil", "x"), "climbs out"),
        (file_entry("/etc/evil", "x"), "absolute path"),
        (special_entry("etc/hard", tarfile.LNKTYPE, "../../../etc/shadow"), "climbs out"),
        (special_entry("etc/hard", tarfile.LNKTYPE, "etc/nothing"), "not a file in the image"),
    ],
)
def test_hostile_entries_are_refused(
    tmp_path: Path, entry: tuple[tarfile.TarInfo, bytes | None], message: str
) -> None:
    with pytest.raises(TargetError, match=message):
        open_target(_layered(tmp_path, [tar_of([entry])]))


def test_huge_sparse_file_is_indexed_not_read(tmp_path: Path) -> None:
    info = tarfile.TarInfo("var/huge")
    info.type = tarfile.GNUTYPE_SPARSE
    header = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    header[483:495] = b"%011o\0" % (100 * 1024**3)  # real size: 100 GiB
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    (tmp_path / "sparse.tar").write_bytes(bytes(header) + b"\0" * 1024)
    target = open_target(f"tar:{tmp_path / 'sparse.tar'}")
    result = target.read_bytes("/var/huge")
    assert isinstance(result, Unknown) and "sparse" in result.reason


def test_decompression_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGEVET_MAX_LAYER_BYTES", str(8 * 1024 * 1024))
    info = tarfile.TarInfo("zeros")
    info.size = 64 * 1024 * 1024
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        archive.addfile(info, io.BytesIO(bytes(info.size)))
    (tmp_path / "bomb.tar.gz").write_bytes(gzip.compress(buffer.getvalue()))
    assert (tmp_path / "bomb.tar.gz").stat().st_size < 1024 * 1024
    with pytest.raises(TargetError, match="decompresses to more than"):
        open_target(f"tar:{tmp_path / 'bomb.tar.gz'}")


def test_zstd_and_gzip_tarballs(tmp_path: Path) -> None:
    zstandard = pytest.importorskip("zstandard")
    layer = tar_of([file_entry("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n")])
    (tmp_path / "rootfs.tar.zst").write_bytes(zstandard.ZstdCompressor().compress(layer))
    (tmp_path / "rootfs.tar.gz").write_bytes(gzip.compress(layer))
    for name in ("rootfs.tar.zst", "rootfs.tar.gz"):
        target = open_target(f"tar:{tmp_path / name}")
        try:
            assert target.read_text("/etc/os-release") == "ID=alpine\nVERSION_ID=3.20.3\n"
        finally:
            target.close()


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_tarballs_are_refused(tmp_path: Path, damage: str) -> None:
    layer = tar_of([file_entry("etc/os-release", "ID=debian\n" * 200)])
    data = layer[:700] if damage == "truncate" else os.urandom(4096)
    (tmp_path / "bad.tar").write_bytes(data)
    with pytest.raises(TargetError):
        open_target(f"tar:{tmp_path / 'bad.tar'}")


def test_oci_reference_selection(tmp_path: Path) -> None:
    layout = make_oci_layout(
        [tar_of([file_entry("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n")])], tmp_path / "oci", tag="v1"
    )
    assert open_target(f"oci:{layout}@v1").read_text("/etc/os-release").startswith("ID=alpine")
    with pytest.raises(TargetError, match="no image 'v2'"):
        open_target(f"oci:{layout}@v2")


def test_cli_errors_for_archives(tmp_path: Path) -> None:
    for spec in (f"docker-archive:{tmp_path / 'none.tar'}", f"oci:{tmp_path}", f"tar:{FIXTURES}"):
        proc = run_imagevet("audit", spec)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize("command", ["audit", "packages", "vuln", "compliance"])
def test_cli_commands_leave_no_work_directories(command: str, packed: dict[str, str], tmp_path: Path) -> None:
    """Every command that opens an image archive removes its decompressed layers before it exits."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    args = [command, packed["docker"], "-f", "json"]
    if command == "vuln":
        args += ["--db", str(tmp_path / "no-such.db")]
    environment = {**os.environ, "TMPDIR": str(scratch)}
    proc = run_imagevet(*args, env=environment, timeout=120)
    assert proc.returncode in (0, 1, 2), proc.stderr
    assert list(scratch.iterdir()) == []
