"""Property-based fuzzing of the tar index and the layered tree over it (issue 15: bounded in CI).

Inputs are real tarballs (written by Python's tarfile in GNU and PAX form, with long names, links, a
directory, a sparse member) damaged by hypothesis (bytes replaced, inserted, cut), and headers built
field by field with valid checksums (so the parser gets past the checksum into the fields). Properties:
only the project's own errors escape, every call returns within a second, memory stays bounded, and a
target that opens answers reads without raising.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagevet.errors import ImagevetError
from imagevet.model import TargetInfo, Unknown
from imagevet.target.layers import LayeredTarget
from imagevet.target.tarindex import members, pax_records
from tests.support.images import END, checksummed, file_entry, header, pax_record, special_entry, tar_of

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_SECONDS = 1.0
MAX_TRACED_BYTES = 32 * 1024 * 1024


def _seed_archives() -> list[bytes]:
    gnu = tar_of(
        [
            file_entry("etc/os-release", "ID=debian\n"),
            file_entry("usr/share/" + "x" * 150 + "/long", "long name\n"),  # GNU L header
            special_entry("etc/link", tarfile.SYMTYPE, "os-release"),
            special_entry("etc/hard", tarfile.LNKTYPE, "etc/os-release"),
            special_entry("var/lib", tarfile.DIRTYPE),
        ]
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("etc/" + "ü" * 120)
        info.size, info.uid = 5, 3_000_000
        archive.addfile(info, io.BytesIO(b"hello"))
    sparse = bytearray(header("var/huge", kind=tarfile.GNUTYPE_SPARSE))
    sparse[483:495] = b"%011o\0" % (1 << 30)
    return [gnu, buffer.getvalue(), checksummed(sparse) + END]


SEEDS = _seed_archives()


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A real archive with a few of its bytes replaced, a run inserted, and maybe cut short."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        position = draw(st.integers(0, len(data)))
        data[position:position] = draw(st.binary(max_size=64))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


_FIELD = st.one_of(
    st.binary(min_size=0, max_size=12),
    st.sampled_from([b"\xff" * 12, b"\x80" + b"\xff" * 11, b"-1", b"0000_1", b" 7 7", b"77777777777", b"\0"]),
)


@st.composite
def forged(draw: st.DrawFn) -> bytes:
    """Headers with valid checksums whose fields (type, size, mode, ids, PAX records) are hostile."""
    blocks = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            records = draw(
                st.lists(
                    st.one_of(
                        st.builds(
                            pax_record,
                            st.sampled_from(
                                ["path", "linkpath", "size", "uid", "gid", "GNU.sparse.realsize"]
                            ),
                            st.binary(max_size=40),
                        ),
                        st.binary(max_size=40),
                    ),
                    max_size=4,
                )
            )
            data = b"".join(records)
            kind = draw(st.sampled_from([b"x", b"g"]))
            block = bytearray(header("PaxHeaders/x", size=len(data)))
            block[156:157] = kind
            blocks.append(checksummed(block) + data.ljust((len(data) + 511) // 512 * 512, b"\0"))
        block = bytearray(header(draw(st.text(max_size=40)) or "x"))
        block[156:157] = draw(st.sampled_from(list(b"0125673DSLKMVxg")).map(lambda b: bytes([b])))
        for start, end in [(100, 108), (108, 116), (116, 124), (124, 136)]:
            if draw(st.booleans()):
                block[start:end] = draw(_FIELD).ljust(end - start, b"\0")[: end - start]
        blocks.append(checksummed(block) + draw(st.binary(max_size=600)))
    return b"".join(blocks) + draw(st.sampled_from([END, b"", bytes(512)]))


def _index_only(data: bytes) -> None:
    for _ in members(io.BytesIO(data), require_end=False):
        pass


def _open_and_read(data: bytes, compress: bool) -> None:
    workdir = tempfile.mkdtemp(prefix="imagevet-fuzz-")
    target = LayeredTarget(TargetInfo("fuzz", "tar"), workdir)
    try:
        target.add_layer(io.BytesIO(gzip.compress(data) if compress else data), "fuzz")
        for path in ("/", "/etc", "/etc/os-release", "/etc/link", "/etc/hard", "/var/huge"):
            target.list_dir(path)
            result = target.read_bytes(path)
            assert isinstance(result, bytes | Unknown)
            target.stat(path)
    finally:
        target.close()
    assert not Path(workdir).exists()


def _bounded(call: object, *args: object) -> None:
    """Run ``call``; only ImagevetError may escape, within MAX_SECONDS and MAX_TRACED_BYTES."""
    tracemalloc.start()
    start = time.monotonic()
    try:
        call(*args)  # type: ignore[operator]
    except ImagevetError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.monotonic() - start < MAX_SECONDS * 5  # tracemalloc slows Python down
    assert peak < MAX_TRACED_BYTES


@FUZZ
@given(damaged())
def test_damaged_real_archives(data: bytes) -> None:
    _bounded(_index_only, data)
    _bounded(_open_and_read, data, False)


@FUZZ
@given(damaged())
def test_damaged_real_archives_gzipped(data: bytes) -> None:
    _bounded(_open_and_read, data, True)


@FUZZ
@given(forged())
def test_forged_headers(data: bytes) -> None:
    _bounded(_index_only, data)
    _bounded(_open_and_read, data, False)


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(data: bytes) -> None:
    _bounded(_index_only, data)


@FUZZ
@given(st.binary(max_size=512))
def test_pax_records(data: bytes) -> None:
    try:
        records = pax_records(data, 0)
    except ImagevetError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in records.items())
