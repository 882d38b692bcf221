"""Hostile and truncated tarballs (issue 15, item 3): each made here from a real archive written by Python's
tarfile or GNU tar, then damaged one field at a time; each refused through the CLI with one line naming
the file, without echoing the archive's bytes, and without a report."""

from __future__ import annotations

import gzip
import io
import os
import random
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from imagevet.errors import TargetError
from imagevet.model import Unknown
from imagevet.target import open_target
from imagevet.target.tarindex import members
from tests.support.images import (
    END,
    file_entry,
    header,
    header_bomb,
    pax_header,
    pax_record,
    special_entry,
    tar_of,
)
from tests.target.refusal import MARK, MARK_BYTES, assert_refused

OS_RELEASE = "ID=debian\nVERSION_ID=12\n"


def real_tar() -> bytes:
    """A small genuine tarball (tarfile, GNU format): os-release, a file whose name is the marker, and
    8 KiB of incompressible data (so the gzip variants have a middle to damage)."""
    noise = random.Random(15).randbytes(8192).hex()
    return tar_of(
        [
            file_entry("etc/os-release", OS_RELEASE * 40),
            file_entry(f"etc/{MARK}", "x" * 900),
            file_entry("var/noise", noise),
        ]
    )


def _damaged_gzip() -> bytes:
    packed = bytearray(gzip.compress(real_tar()))
    middle = len(packed) // 2
    packed[middle : middle + 64] = bytes(b ^ 0x55 for b in packed[middle : middle + 64])
    return bytes(packed)


def _cut_at_member_boundary() -> bytes:
    data = real_tar()
    second = data.index(f"etc/{MARK}".encode())  # the second member's header starts here
    return data[:second]


def _lone_zero_block() -> bytes:
    data = real_tar()
    second = data.index(f"etc/{MARK}".encode())
    return data[:second] + bytes(512) + data[second:]


def _flip_name_byte() -> bytes:
    data = bytearray(real_tar())
    data[5] ^= 0x01
    return bytes(data)


def _pax(*records: bytes, kind: bytes = b"x") -> bytes:
    return pax_header(b"".join(records), kind) + header(f"etc/{MARK}") + END


def _many_metadata_headers() -> bytes:
    return b"".join(pax_header(pax_record("comment", MARK_BYTES)) for _ in range(17)) + header("etc/x") + END


def _sparse_made_by_gnu_tar(tmp: Path, fmt: str) -> bytes:
    if shutil.which("tar") is None:
        pytest.skip("GNU tar is not installed")
    source = tmp / "src"
    source.mkdir(exist_ok=True)
    with (source / "holes").open("wb") as handle:  # 11 data runs: needs an extended sparse map
        for i in range(11):
            handle.seek(i * 700_000)
            handle.write(b"data")
        handle.truncate(10 * 1024 * 1024)
    out = tmp / f"sparse-{fmt}.tar"
    subprocess.run(
        ["tar", "--sparse", f"--format={fmt}", "-cf", str(out), "-C", str(source), "holes"],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


TAR_CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "truncated in a member's data": (lambda: real_tar()[:700], "truncated"),
    "truncated at a member boundary": (_cut_at_member_boundary, "without the end-of-archive block"),
    "truncated header": (lambda: real_tar()[:300], "truncated header"),
    "negative base-256 size": (lambda: header(fields={"size": b"\xff" * 12}) + END, "size is a negative"),
    "signed octal size": (lambda: header(fields={"size": b"-0000001"}) + END, "size is not an octal number"),
    "underscore in octal size": (
        lambda: header(fields={"size": b"0000_1"}) + END,
        "size is not an octal number",
    ),
    "absurd base-256 size": (lambda: header(fields={"size": b"\x80" + b"\xff" * 11}) + END, "out of range"),
    "size beyond the end": (lambda: header(fields={"size": b"%011o" % 10**9}) + END, "runs past the end"),
    "bad checksum": (_flip_name_byte, "bad header checksum at byte 0"),
    "PAX length not a number": (lambda: _pax(b"junk path=" + MARK_BYTES + b"\n"), "no valid length"),
    "PAX length that does not advance": (lambda: _pax(b"0 path=x\n"), "wrong length"),
    "PAX length beyond the header": (lambda: _pax(b"99999 path=" + MARK_BYTES + b"\n"), "wrong length"),
    "PAX length in non-ASCII digits": (lambda: _pax("١٢ path=x\n".encode()), "no valid length"),
    "PAX record without =": (lambda: _pax(b"12 pathEVIL\n"), "not KEY=VALUE"),
    "PAX key not UTF-8": (lambda: _pax(pax_record("x", b"1").replace(b"x=", b"\xff=")), "not UTF-8"),
    "PAX negative size": (lambda: _pax(pax_record("size", b"-1")), "size is not a decimal number"),
    "PAX size in non-ASCII digits": (
        lambda: _pax(pax_record("size", "١٢٣".encode())),
        "size is not a decimal number",
    ),
    "PAX size with 30 digits": (lambda: _pax(pax_record("size", b"9" * 30)), "not a decimal number"),
    "PAX uid in non-ASCII digits": (lambda: _pax(pax_record("uid", "٣".encode())), "uid is not a decimal"),
    "PAX path with NUL": (lambda: _pax(pax_record("path", b"etc/" + MARK_BYTES + b"\0x")), "NUL"),
    "global PAX header setting the path": (lambda: _pax(pax_record("path", MARK_BYTES), kind=b"g"), "global"),
    "looping metadata headers": (_many_metadata_headers, "metadata headers"),
    "metadata header without its member": (
        lambda: pax_header(pax_record("path", MARK_BYTES)) + END,
        "not followed",
    ),
    "lone zero block before more members": (_lone_zero_block, "lone zero block"),
    "multi-volume continuation": (lambda: header(kind=b"M") + END, "multi-volume"),
    "path of 5000 bytes": (
        lambda: tar_of([file_entry("a/" * 2500 + MARK, "x")]),
        "longer than 4096 bytes",
    ),
    "path 300 directories deep": (lambda: tar_of([file_entry("a/" * 300 + MARK, "x")]), "directories deep"),
    "absolute path": (lambda: tar_of([file_entry(f"/etc/{MARK}", "x")]), "absolute path"),
    "dot-dot path": (lambda: tar_of([file_entry(f"etc/../../{MARK}", "x")]), "climbs out"),
    "hard link to nothing": (
        lambda: tar_of([special_entry(f"etc/{MARK}", tarfile.LNKTYPE, f"etc/{MARK}2")]),
        "hard link",
    ),
    "damaged gzip": (
        lambda: (lambda z: z[:200] + bytes(b ^ 0x55 for b in z[200:260]) + z[260:])(
            gzip.compress(real_tar())
        ),
        "damaged compressed layer",
    ),
    "truncated gzip": (lambda: gzip.compress(real_tar() + bytes(40000))[:300], "damaged compressed layer"),
}


@pytest.mark.parametrize("case", list(TAR_CASES))
def test_hostile_tarball_is_refused(tmp_path: Path, case: str) -> None:
    make, problem = TAR_CASES[case]
    bad = tmp_path / "bad.tar"
    bad.write_bytes(make())
    assert_refused(f"tar:{bad}", bad, problem)


@pytest.mark.parametrize("case", ["truncated in a member's data", "bad checksum", "PAX path with NUL"])
def test_hostile_layer_inside_a_docker_archive(tmp_path: Path, case: str) -> None:
    from tests.support.images import make_docker_archive

    archive = make_docker_archive([TAR_CASES[case][0]()], tmp_path / "image.tar")
    line = assert_refused(f"docker-archive:{archive}", archive, "layer 1 of 1")
    assert TAR_CASES[case][1] in line


def test_entry_bomb_is_refused_quickly(tmp_path: Path) -> None:
    """2,000,000 identical headers gzip into 4 MB; refused at the entry budget, not indexed to the end."""
    bomb = tmp_path / "bomb.tar.gz"
    bomb.write_bytes(gzip.compress(header_bomb(1, unique=False)[:512] * 2_000_000 + END, compresslevel=6))
    assert bomb.stat().st_size < 8 * 1024 * 1024
    start = time.monotonic()
    assert_refused(f"tar:{bomb}", bomb, "entries in the image")
    assert time.monotonic() - start < 20  # typically ~1 s here; docs/benchmarks.md has the measurement


def test_zeros_after_the_archive_are_not_inflated(tmp_path: Path) -> None:
    """A 1 KB archive followed by 1 GiB of compressed zeros is refused after MAX_TRAILING bytes."""
    bomb = tmp_path / "zeros.tar.gz"
    with gzip.open(bomb, "wb", compresslevel=1) as handle:
        handle.write(tar_of([file_entry("etc/os-release", OS_RELEASE)]))
        zeros = bytes(1 << 20)
        for _ in range(1024):
            handle.write(zeros)
    assert_refused(f"tar:{bomb}", bomb, "follow the end of the tar archive")


# ---- what is genuine still opens ------------------------------------------------------------------
@pytest.mark.real
@pytest.mark.parametrize("fmt", ["gnu", "posix"])
def test_sparse_files_written_by_gnu_tar(tmp_path: Path, fmt: str) -> None:
    """GNU tar's old sparse form (an extended sparse map here) and its PAX 1.0 form are indexed under the
    file's real name and size; the content is not served."""
    data = _sparse_made_by_gnu_tar(tmp_path, fmt) + b""
    listed = list(members(io.BytesIO(data)))
    assert [(m.name, m.kind, m.size) for m in listed] == [("holes", "sparse", 10 * 1024 * 1024)]
    (tmp_path / "s.tar").write_bytes(data)
    target = open_target(f"tar:{tmp_path / 's.tar'}")
    try:
        result = target.read_bytes("/holes")
        assert isinstance(result, Unknown) and "sparse" in result.reason
    finally:
        target.close()


@pytest.mark.real
def test_truncated_sparse_map_is_refused(tmp_path: Path) -> None:
    data = _sparse_made_by_gnu_tar(tmp_path, "gnu")
    (tmp_path / "bad.tar").write_bytes(data[:700])  # inside the extended sparse map block
    assert_refused(f"tar:{tmp_path / 'bad.tar'}", tmp_path / "bad.tar", "sparse map")


def test_pax_archives_written_by_tarfile_open(tmp_path: Path) -> None:
    """PAX long names, unicode names, a PAX size and a git-archive-style global comment header."""
    buffer = io.BytesIO()
    name = "usr/share/" + "ü" * 80 + "/" + "n" * 150
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.pax_headers = {"comment": "0123abcd"}  # a global header, as git archive writes one
        info, data = file_entry(name, "long\n")
        info.size = len(data)
        info.uid = 3_000_000  # beyond the octal field's 7 digits: a PAX uid record
        archive.addfile(info, io.BytesIO(data))
        info, data = file_entry("etc/os-release", OS_RELEASE)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    (tmp_path / "pax.tar").write_bytes(buffer.getvalue())
    target = open_target(f"tar:{tmp_path / 'pax.tar'}")
    try:
        assert target.read_text("/" + name) == "long\n"
        assert target.stat("/" + name).uid == 3_000_000  # type: ignore[union-attr]
        assert target.read_text("/etc/os-release") == OS_RELEASE
    finally:
        target.close()


def test_gzip_tarball_without_end_blocks_opens(tmp_path: Path) -> None:
    """The gzip trailer proves the stream complete, so the end-of-archive blocks may be missing."""
    data = tar_of([file_entry("etc/os-release", OS_RELEASE)])
    end = data.index(OS_RELEASE.encode()) + 512
    (tmp_path / "noend.tar.gz").write_bytes(gzip.compress(data[:end]))
    target = open_target(f"tar:{tmp_path / 'noend.tar.gz'}")
    try:
        assert target.read_text("/etc/os-release") == OS_RELEASE
    finally:
        target.close()


def test_directory_with_a_size_field_is_header_only() -> None:
    """Go's archive/tar and Python's tarfile ignore a directory's size; a member hidden 'inside' it is
    a member, as they read it."""
    data = header("etc", kind=tarfile.DIRTYPE, fields={"size": b"%011o" % 512}) + header("etc/x") + END
    assert [(m.name, m.kind, m.size) for m in members(io.BytesIO(data))] == [
        ("etc/", "dir", 0),
        ("etc/x", "file", 0),
    ]


def test_refusals_name_entries_by_number_and_offset(tmp_path: Path) -> None:
    layer = tar_of([file_entry("etc/a", "a"), file_entry(f"/etc/{MARK}", "x")])
    (tmp_path / "bad.tar").write_bytes(layer)
    with pytest.raises(TargetError, match=r"entry #2 at byte 1024 has an absolute path") as caught:
        open_target(f"tar:{tmp_path / 'bad.tar'}")
    assert MARK not in str(caught.value)


def test_entry_budget_grows_with_what_is_stored(tmp_path: Path) -> None:
    """30,000 entries are over the base budget, but an uncompressed tar pays 512 bytes for each: it opens."""
    (tmp_path / "many.tar").write_bytes(header_bomb(30_000))
    target = open_target(f"tar:{tmp_path / 'many.tar'}")
    try:
        assert len(target.list_dir("/d29")) == 1000  # type: ignore[arg-type]
    finally:
        target.close()


def test_fixed_entry_budget_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "small.tar").write_bytes(header_bomb(50))
    env = {**os.environ, "IMAGEVET_MAX_ENTRIES": "10"}
    assert_refused(f"tar:{tmp_path / 'small.tar'}", tmp_path / "small.tar", "more than 10 entries", env=env)


@pytest.mark.real
def test_volume_label_written_by_gnu_tar(tmp_path: Path) -> None:
    """``tar -V LABEL`` starts the archive with a volume header, which is not a member."""
    if shutil.which("tar") is None:
        pytest.skip("GNU tar is not installed")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "os-release").write_text(OS_RELEASE)
    out = tmp_path / "labelled.tar"
    subprocess.run(
        ["tar", "-V", "backup 1", "-cf", str(out), "-C", str(tmp_path / "src"), "os-release"], check=True
    )
    with out.open("rb") as handle:
        assert [(m.name, m.kind) for m in members(handle)] == [("os-release", "file")]
