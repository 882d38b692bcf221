"""Truncated, corrupt and parent-dependent VHD and VHDX images: real images made by sfdisk, mkfs.ext4 and
qemu-img (tests/support/disks.py), then cut short or patched; each refused through the CLI with one line
naming the file and the problem, never half-read.

qemu-img 7.2 makes neither a differencing VHD nor a differencing VHDX ("Backing file not supported for
file format 'vpc'" / "'vhdx'"), nor a VHDX with a log to replay: those variants are the real images with
the disk type field (VHD), the has-parent flag or a parent locator item (VHDX metadata) or the log GUID
(VHDX header) patched, and the checksum each format keeps over that field recomputed, so that only the
property under test is wrong. The hostile images carry MARK in a field imagevet does not need (the VHD
footer's reserved bytes, the VHDX creator string): a refusal must never quote it."""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import pytest

from imagevet.target import open_target
from imagevet.target.diskcheck_vhd import _crc32c
from tests.conftest import FIXTURES
from tests.support.disks import disk_tools_available, make_disk
from tests.target.refusal import MARK_BYTES, assert_refused

pytestmark = pytest.mark.real
ROOT = FIXTURES / "rootfs/hardened-debian"
KIB, MIB = 1 << 10, 1 << 20
PARENT_LOCATOR = UUID("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C").bytes_le


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    if not disk_tools_available():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One real image of the hardened-debian fixture per form (made once for the module), MARK inside."""
    folder = tmp_path_factory.mktemp("vhd")
    raw = make_disk(ROOT, folder / "disk.raw", size_mib=64, fmt="raw")
    made = {}
    for name, fmt, options in [
        ("fixed.vhd", "vpc", "subformat=fixed,force_size=on"),
        ("dynamic.vhd", "vpc", "subformat=dynamic,force_size=on"),
        ("dynamic.vhdx", "vhdx", "subformat=dynamic"),
    ]:
        out = folder / name
        subprocess.run(
            ["qemu-img", "convert", "-O", fmt, "-o", options, str(raw), str(out)],
            check=True,
            capture_output=True,
        )
        data = bytearray(out.read_bytes())
        if fmt == "vpc":
            for footer in [len(data) - 512] + ([0] if name == "dynamic.vhd" else []):
                data[footer + 100 : footer + 100 + len(MARK_BYTES)] = MARK_BYTES  # reserved bytes
                _vhd_sum(data, footer, 512, 64)
        else:
            data[8 : 8 + 2 * len(MARK_BYTES)] = MARK_BYTES.decode().encode("utf-16-le")  # the creator
        made[name] = bytes(data)
    return made


def _vhd_sum(data: bytearray, start: int, size: int, at: int) -> None:
    """Recompute a VHD checksum (ones' complement of the byte sum, the field itself left out)."""
    struct.pack_into(">I", data, start + at, 0)
    struct.pack_into(">I", data, start + at, ~sum(data[start : start + size]) & 0xFFFFFFFF)


def _vhdx_sum(data: bytearray, start: int, size: int) -> None:
    struct.pack_into("<I", data, start + 4, 0)
    struct.pack_into("<I", data, start + 4, _crc32c()(bytes(data[start : start + size])))


def _metadata(data: bytearray) -> tuple[int, list[tuple[int, bytes, int]]]:
    """The VHDX metadata region's offset and its entries (byte offset of the entry, item id, item offset),
    read from region table 1."""
    count = struct.unpack_from("<I", data, 192 * KIB + 8)[0]
    for index in range(count):
        guid, offset = struct.unpack_from("<16sQ", data, 192 * KIB + 16 + 32 * index)
        if guid == UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E").bytes_le:
            entries = struct.unpack_from("<H", data, offset + 10)[0]
            found = []
            for item in range(entries):
                at = offset + 32 + 32 * item
                found.append((at, data[at : at + 16], struct.unpack_from("<I", data, at + 16)[0]))
            return offset, found
    raise AssertionError("no metadata region")


def _bat(data: bytearray) -> int:
    count = struct.unpack_from("<I", data, 192 * KIB + 8)[0]
    for index in range(count):
        guid, offset = struct.unpack_from("<16sQ", data, 192 * KIB + 16 + 32 * index)
        if guid == UUID("2DC27766-F623-4200-9D64-115E9BFD4A08").bytes_le:
            return int(offset)
    raise AssertionError("no BAT region")


# ---- damage: each takes the image's bytes and returns the hostile image and the problem it must name ----
def cut_one_byte(data: bytearray) -> tuple[bytes, str]:
    return bytes(data[:-1]), f"the VHD footer at byte {len(data) - 513} is missing (truncated)"


def cut_mid_dynamic(data: bytearray) -> tuple[bytes, str]:
    return bytes(data[: len(data) // 2]), "footer at byte"


def cut_mid_fixed(data: bytearray) -> tuple[bytes, str]:
    """A fixed VHD cut by 512 bytes or more has lost its footer: it is a raw disk, refused by the raw
    rules (here the GPT backup header, in the disk's last sector, is gone)."""
    return bytes(data[: len(data) // 2]), "backup GPT header lies beyond the end of the disk (truncated)"


def footer_checksum(data: bytearray) -> tuple[bytes, str]:
    data[-512 + 64] ^= 0x01
    return bytes(data), f"the VHD footer at byte {len(data) - 512} has a bad checksum"


def differencing(data: bytearray) -> tuple[bytes, str]:
    footers = [len(data) - 512] + ([0] if data[:8] == b"conectix" else [])
    for footer in footers:
        struct.pack_into(">I", data, footer + 60, 4)  # disk type 4: differencing
        _vhd_sum(data, footer, 512, 64)
    return bytes(data), "differencing disk that needs its parent; audit a flattened copy (qemu-img convert)"


def fixed_footer_shrunk(data: bytearray) -> tuple[bytes, str]:
    """The footer says the disk is 1 MiB smaller than the data before it: inconsistent, refused."""
    footer = len(data) - 512
    size = struct.unpack_from(">Q", data, footer + 48)[0]
    struct.pack_into(">Q", data, footer + 48, size - MIB)
    _vhd_sum(data, footer, 512, 64)
    return bytes(data), f"the fixed VHD holds {footer} bytes of disk before its footer"


def dynamic_header_checksum(data: bytearray) -> tuple[bytes, str]:
    header = struct.unpack_from(">Q", data, 16)[0]
    data[header + 36] ^= 0x01
    return bytes(data), f"the VHD dynamic header at byte {header} has a bad checksum"


def bat_entry_past_the_end(data: bytearray) -> tuple[bytes, str]:
    header = struct.unpack_from(">Q", data, 16)[0]
    table = struct.unpack_from(">Q", data, header + 16)[0]
    struct.pack_into(">I", data, table + 4 * 3, 0x00FFFFFF)  # block 3 at byte 8 GiB - 512
    return bytes(data), f"VHD BAT entry 3: block at byte {0x00FFFFFF * 512} lies beyond the end of the file"


def bat_beyond_the_end(data: bytearray) -> tuple[bytes, str]:
    header = struct.unpack_from(">Q", data, 16)[0]
    struct.pack_into(">Q", data, header + 16, len(data))  # the table offset: the end of the file
    _vhd_sum(data, header, 1024, 36)
    return bytes(data), f"the VHD BAT at byte {len(data)} lies beyond the end of the file (truncated)"


def vhdx_header_checksum(data: bytearray) -> tuple[bytes, str]:
    data[64 * KIB + 100] ^= 0x01  # a reserved byte of header 1: only its CRC-32C notices
    return bytes(data), "VHDX header 1 at byte 65536 has a bad checksum"


def vhdx_region_checksum(data: bytearray) -> tuple[bytes, str]:
    data[256 * KIB + 4] ^= 0x01
    return bytes(data), "VHDX region table 2 at byte 262144 has a bad checksum"


def vhdx_cut_one_byte(data: bytearray) -> tuple[bytes, str]:
    return bytes(data[:-1]), "lies beyond the end of the file (truncated)"


def vhdx_cut_mid(data: bytearray) -> tuple[bytes, str]:
    return bytes(data[: len(data) // 2]), "lies beyond the end of the file (truncated)"


def vhdx_cut_in_headers(data: bytearray) -> tuple[bytes, str]:
    return bytes(data[: 100 * KIB]), "VHDX header 2 at byte 131072 runs past the end of the file (truncated)"


def vhdx_log_to_replay(data: bytearray) -> tuple[bytes, str]:
    """Both headers name a log (a VHDX not closed cleanly); their CRC-32C recomputed."""
    for header in (64 * KIB, 128 * KIB):
        data[header + 48 : header + 64] = UUID("12345678-1234-5678-1234-567812345678").bytes_le
        _vhdx_sum(data, header, 4 * KIB)
    return bytes(data), "needs replaying (the disk was not closed cleanly)"


def vhdx_has_parent(data: bytearray) -> tuple[bytes, str]:
    start, entries = _metadata(data)
    file_parameters = UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B").bytes_le
    params = next(offset for _, item, offset in entries if item == file_parameters)
    data[start + params + 4] |= 0b10  # file parameters: has parent (the metadata has no checksum)
    return bytes(data), "the VHDX is a differencing disk that needs its parent; audit a flattened copy"


def vhdx_parent_locator(data: bytearray) -> tuple[bytes, str]:
    _, entries = _metadata(data)
    at = entries[-1][0]
    data[at : at + 16] = PARENT_LOCATOR  # the last metadata item becomes a parent locator
    return bytes(data), "the VHDX is a differencing disk that needs its parent"


def vhdx_bat_entry_past_the_end(data: bytearray) -> tuple[bytes, str]:
    bat = _bat(data)
    struct.pack_into("<Q", data, bat, (4096 << 20) | 6)  # block 0 fully present at 4 GiB
    return bytes(data), "VHDX BAT entry 0: block at byte 4294967296 lies beyond the end of the file"


def vhdx_partially_present(data: bytearray) -> tuple[bytes, str]:
    bat = _bat(data)
    (entry,) = struct.unpack_from("<Q", data, bat)
    struct.pack_into("<Q", data, bat, entry & ~7 | 7)
    return bytes(data), "VHDX BAT entry 0: the block is partly in a parent disk"


CASES: list[tuple[str, Callable[[bytearray], tuple[bytes, str]]]] = [
    ("fixed.vhd", cut_one_byte),
    ("dynamic.vhd", cut_one_byte),
    ("fixed.vhd", cut_mid_fixed),
    ("dynamic.vhd", cut_mid_dynamic),
    ("fixed.vhd", footer_checksum),
    ("dynamic.vhd", footer_checksum),
    ("fixed.vhd", differencing),
    ("dynamic.vhd", differencing),
    ("fixed.vhd", fixed_footer_shrunk),
    ("dynamic.vhd", dynamic_header_checksum),
    ("dynamic.vhd", bat_entry_past_the_end),
    ("dynamic.vhd", bat_beyond_the_end),
    ("dynamic.vhdx", vhdx_header_checksum),
    ("dynamic.vhdx", vhdx_region_checksum),
    ("dynamic.vhdx", vhdx_cut_one_byte),
    ("dynamic.vhdx", vhdx_cut_mid),
    ("dynamic.vhdx", vhdx_cut_in_headers),
    ("dynamic.vhdx", vhdx_log_to_replay),
    ("dynamic.vhdx", vhdx_has_parent),
    ("dynamic.vhdx", vhdx_parent_locator),
    ("dynamic.vhdx", vhdx_bat_entry_past_the_end),
    ("dynamic.vhdx", vhdx_partially_present),
]


@pytest.mark.parametrize(("image", "damage"), CASES, ids=[f"{i}-{d.__name__}" for i, d in CASES])
def test_hostile_vhd_and_vhdx_are_refused(
    images: dict[str, bytes], tmp_path: Path, image: str, damage: Callable[[bytearray], tuple[bytes, str]]
) -> None:
    hostile, problem = damage(bytearray(images[image]))
    bad = tmp_path / f"{damage.__name__}-{image}"
    bad.write_bytes(hostile)
    assert_refused(f"disk:{bad}", bad, problem)


def test_the_marked_images_open(images: dict[str, bytes], tmp_path: Path) -> None:
    """The hostile variants differ from these whole images only by their damage."""
    for name, data in images.items():
        path = tmp_path / name
        path.write_bytes(data)
        target = open_target(f"disk:{path}")
        try:
            assert "Debian" in str(target.read_text("/etc/os-release"))
        finally:
            target.close()
