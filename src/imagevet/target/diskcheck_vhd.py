"""Checks that a VHD or VHDX disk image is whole and self-contained before dissect reads it.

dissect.hypervisor reads both formats without validating them: for a VHD it takes the last 512 bytes as
the footer (falling back to a 511-byte footer) and never checks a checksum; a dynamic VHD's BAT entries are
followed wherever they point, and a block beyond the end of the file reads short. For a VHDX it picks the
header with the higher sequence number without checking either header's CRC-32C, reads region table 1
only, ignores the log, opens a differencing disk's parent by the path its locator names, and follows BAT
entries wherever they point. So these checks read the formats' own metadata with ``struct`` and refuse,
with a DiskFormatError naming the structure and its byte offset (never its content):

- VHD (Virtual PC / Hyper-V, "conectix" footer): a footer that is not the last 512 bytes (a cut-short
  file), a bad footer checksum, a disk type other than fixed or dynamic (a differencing disk needs its
  parent), a fixed disk whose data is not exactly its virtual size, a dynamic header with a bad checksum,
  an absurd virtual or block size, a BAT too small for the disk or beyond the end of the file, a BAT entry
  whose block lies beyond the end of the file;
- VHDX: a header or region table with a bad CRC-32C, a log that needs replaying (the disk was not closed
  cleanly, its blocks may be inconsistent), unknown required regions or metadata items, a parent (a
  differencing disk), an absurd virtual, sector or block size, a BAT or block beyond the end of the file.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable
from typing import IO
from uuid import UUID

from imagevet.errors import TargetError
from imagevet.target.diskcheck import MAX_VIRTUAL_SIZE, SECTOR, DiskFormatError, _beyond, _read_at

MAX_BLOCKS = 1 << 22  # BAT entries imagevet reads (a 16 or 32 MiB table); more is absurd for an image
FLATTEN = "audit a flattened copy (qemu-img convert)"

# ---- VHD ------------------------------------------------------------------------------------------------
VHD_COOKIE = b"conectix"
VHD_SPARSE = b"cxsparse"
VHD_FOOTER = struct.Struct(">8sIIQIIIIQQIII")  # cookie .. checksum (68 bytes of the 512)
VHD_DYNAMIC = struct.Struct(">8sQQIIII")  # cookie, data offset, table offset, version, entries, block, sum
VHD_VERSION = 0x00010000
VHD_FIXED, VHD_DYNAMIC_DISK, VHD_DIFFERENCING = 2, 3, 4
VHD_UNUSED = 0xFFFFFFFF


def looks_like_vhd(handle: IO[bytes], head: bytes, file_size: int) -> bool:
    """A VHD: a dynamic disk's footer copy at byte 0, or the footer cookie in the last 512 bytes (where it
    is, or where a file cut short by fewer than 512 bytes left it)."""
    if head[:8] == VHD_COOKIE:
        return True
    handle.seek(max(0, file_size - 512))
    tail = handle.read(512)
    handle.seek(0)
    return VHD_COOKIE in tail


def _vhd_sum(data: bytes, checksum_at: int) -> int:
    """The VHD checksum: the ones' complement of the sum of the bytes, the checksum field left out."""
    return ~(sum(data) - sum(data[checksum_at : checksum_at + 4])) & 0xFFFFFFFF


def _vhd_footer(handle: IO[bytes], offset: int, what: str) -> tuple[int, ...]:
    raw = _read_at(handle, offset, 512, what)
    fields = VHD_FOOTER.unpack_from(raw)
    if fields[0] != VHD_COOKIE:
        raise DiskFormatError(f"{what} at byte {offset} is missing (truncated)")
    if fields[12] != _vhd_sum(raw, 64):
        raise DiskFormatError(f"{what} at byte {offset} has a bad checksum")
    if fields[2] != VHD_VERSION:
        raise DiskFormatError(f"{what} at byte {offset} is of a version imagevet does not read")
    return fields


def check_vhd(handle: IO[bytes], file_size: int) -> None:
    """Refuse a VHD that is cut short, inconsistent or needs a parent disk (see the module docstring)."""
    end = file_size - 512
    if end < 0:
        raise DiskFormatError("the VHD footer is missing (truncated)")
    footer = _vhd_footer(handle, end, "the VHD footer")
    data_offset, size, disk_type = footer[3], footer[9], footer[11]
    if disk_type == VHD_DIFFERENCING:
        raise DiskFormatError(f"the VHD is a differencing disk that needs its parent; {FLATTEN}")
    if disk_type not in (VHD_FIXED, VHD_DYNAMIC_DISK):
        raise DiskFormatError(f"the VHD footer at byte {end} gives a disk type other than fixed or dynamic")
    if size > MAX_VIRTUAL_SIZE or size % SECTOR:
        raise DiskFormatError(f"the VHD footer at byte {end} gives an absurd virtual size")
    if disk_type == VHD_FIXED:
        if end != size:
            raise DiskFormatError(
                f"the fixed VHD holds {end} bytes of disk before its footer, the footer says {size}"
            )
        return
    copy = _vhd_footer(handle, 0, "the VHD footer copy")
    if (copy[3], copy[9], copy[11]) != (data_offset, size, disk_type):
        raise DiskFormatError(f"the VHD footer copy at byte 0 disagrees with the footer at byte {end}")
    _check_vhd_dynamic(handle, data_offset, size, end)


def _check_vhd_dynamic(handle: IO[bytes], offset: int, size: int, end: int) -> None:
    what = "the VHD dynamic header"
    if offset < 512 or offset + 1024 > end:
        raise _beyond(f"{what} at byte {offset}")
    raw = _read_at(handle, offset, 1024, what)
    cookie, _, table, version, entries, block, checksum = VHD_DYNAMIC.unpack_from(raw)
    if cookie != VHD_SPARSE:
        raise DiskFormatError(f"{what} at byte {offset} is missing")
    if checksum != _vhd_sum(raw, 36):
        raise DiskFormatError(f"{what} at byte {offset} has a bad checksum")
    if version != VHD_VERSION:
        raise DiskFormatError(f"{what} at byte {offset} is of a version imagevet does not read")
    if not 1 << 12 <= block <= 1 << 28 or block & (block - 1):
        raise DiskFormatError(f"{what} at byte {offset} gives an absurd block size")
    needed = -(-size // block)
    if needed > MAX_BLOCKS:
        raise DiskFormatError(f"{what} at byte {offset} gives more blocks than imagevet reads (absurd)")
    if entries < needed:
        raise DiskFormatError(f"the VHD BAT at byte {table} is too small for the disk")
    if table + 4 * needed > end:
        raise _beyond(f"the VHD BAT at byte {table}")
    bat = array("I", _read_at(handle, table, 4 * needed, "the VHD BAT"))  # 4-byte items on CPython
    if sys.byteorder == "little":
        bat.byteswap()  # the BAT is big-endian
    bitmap = -(-(block // SECTOR // 8) // SECTOR) * SECTOR  # a block's sector bitmap, whole sectors
    last = (end - bitmap - block) // SECTOR  # the last sector a whole block can start at
    for index, sector in enumerate(bat):
        if sector != VHD_UNUSED and sector > last:
            raise _beyond(f"VHD BAT entry {index}: block at byte {sector * SECTOR}")


# ---- VHDX -----------------------------------------------------------------------------------------------
KIB, MIB = 1 << 10, 1 << 20
VHDX_SIGNATURE = b"vhdxfile"
VHDX_HEADER = struct.Struct("<4sIQ16s16s16sHHIQ")  # signature .. log offset (80 bytes of the 4 KiB)
VHDX_HEADERS = (64 * KIB, 128 * KIB)
VHDX_REGION_TABLES = (192 * KIB, 256 * KIB)
VHDX_REGION_HEADER = struct.Struct("<4sII4x")
VHDX_REGION_ENTRY = struct.Struct("<16sQII")
VHDX_METADATA_HEADER = struct.Struct("<8s2xH20x")
VHDX_METADATA_ENTRY = struct.Struct("<16sIII4x")
VHDX_MAX_ENTRIES = 2047
VHDX_REQUIRED = 1  # a region entry's and (bit 2) a metadata entry's "required" flag
BAT_REGION = UUID("2DC27766-F623-4200-9D64-115E9BFD4A08").bytes_le
METADATA_REGION = UUID("8B7CA206-4790-4B9A-B8FE-575F050F886E").bytes_le
FILE_PARAMETERS = UUID("CAA16737-FA36-4D43-B3B6-33F0AA44E76B").bytes_le
VIRTUAL_DISK_SIZE = UUID("2FA54224-CD1B-4876-B211-5DBED83BF4B8").bytes_le
VIRTUAL_DISK_ID = UUID("BECA12AB-B2E6-4523-93EF-C309E000C746").bytes_le
LOGICAL_SECTOR_SIZE = UUID("8141BF1D-A96F-4709-BA47-F233A8FAAB5F").bytes_le
PHYSICAL_SECTOR_SIZE = UUID("CDA348C7-445D-4471-9CC9-E9885251C556").bytes_le
PARENT_LOCATOR = UUID("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C").bytes_le
KNOWN_ITEMS = {FILE_PARAMETERS, VIRTUAL_DISK_SIZE, VIRTUAL_DISK_ID, LOGICAL_SECTOR_SIZE, PHYSICAL_SECTOR_SIZE}
VHDX_HAS_PARENT = 1 << 1
BLOCK_NOT_PRESENT, BLOCK_UNDEFINED, BLOCK_ZERO, BLOCK_UNMAPPED = 0, 1, 2, 3
BLOCK_FULLY_PRESENT, BLOCK_PARTIALLY_PRESENT = 6, 7
BAT_CHUNK = 1 << 16  # BAT entries read at a time


def _crc32c() -> Callable[[bytes], int]:
    """CRC-32C from the disk extra's dissect.util (native when built, else pure Python); depending on the
    build, ``dissect.util.hash.crc32c`` is the function or the module that holds it."""
    try:
        from dissect.util.hash import crc32c
    except ImportError as exc:
        raise TargetError(
            "reading a VHDX needs dissect.util with CRC-32C: pip install -U dissect.util"
        ) from exc
    function: Callable[[bytes], int] = getattr(crc32c, "crc32c", crc32c)
    return function


def _checksummed(handle: IO[bytes], offset: int, size: int, what: str, crc: Callable[[bytes], int]) -> bytes:
    """``size`` bytes at ``offset`` whose CRC-32C (the 4 bytes at +4 taken as zero) is the stored one."""
    raw = _read_at(handle, offset, size, what)
    stored = struct.unpack_from("<I", raw, 4)[0]
    if crc(raw[:4] + b"\0\0\0\0" + raw[8:]) != stored:
        raise DiskFormatError(f"{what} at byte {offset} has a bad checksum")
    return raw


def check_vhdx(handle: IO[bytes], file_size: int) -> None:
    """Refuse a VHDX that is cut short, dirty, inconsistent or needs a parent (see the module docstring)."""
    crc = _crc32c()
    headers = []
    for number, offset in enumerate(VHDX_HEADERS, start=1):
        what = f"VHDX header {number}"
        fields = VHDX_HEADER.unpack_from(_checksummed(handle, offset, 4 * KIB, what, crc))
        if fields[0] != b"head":
            raise DiskFormatError(f"{what} at byte {offset} is missing")
        if fields[7] != 1 or fields[6] != 0:
            raise DiskFormatError(f"{what} at byte {offset} is of a version imagevet does not read")
        headers.append((fields[2], number, offset, fields[5], fields[9]))
    _, number, offset, log_guid, log_offset = max(headers)  # the current one: dissect takes the same
    if log_guid != bytes(16):
        raise DiskFormatError(
            f"VHDX header {number} at byte {offset}: the log at byte {log_offset} needs replaying "
            "(the disk was not closed cleanly); replay it first (qemu-img check -r all, on a copy)"
        )
    regions: dict[bytes, tuple[int, int]] = {}
    for number, table in enumerate(VHDX_REGION_TABLES, start=1):
        what = f"VHDX region table {number}"
        raw = _checksummed(handle, table, 64 * KIB, what, crc)
        signature, _, count = VHDX_REGION_HEADER.unpack_from(raw)
        if signature != b"regi" or count > VHDX_MAX_ENTRIES:
            raise DiskFormatError(f"{what} at byte {table} is missing or inconsistent")
        found = _vhdx_regions(raw, count, what, table, file_size)
        if number == 1:
            regions = found  # dissect reads region table 1
        elif found != regions:
            raise DiskFormatError(f"VHDX region table 2 at byte {table} disagrees with region table 1")
    size, block, sector = _vhdx_metadata(handle, regions[METADATA_REGION])
    _check_vhdx_bat(handle, regions[BAT_REGION], size, block, sector, file_size)


def _vhdx_regions(
    raw: bytes, count: int, what: str, table: int, file_size: int
) -> dict[bytes, tuple[int, int]]:
    regions: dict[bytes, tuple[int, int]] = {}
    for index in range(count):
        guid, offset, length, flags = VHDX_REGION_ENTRY.unpack_from(raw, 16 + 32 * index)
        entry = f"{what} entry {index}"
        if guid in regions:
            raise DiskFormatError(f"{entry} at byte {table + 16 + 32 * index} names a region twice")
        if guid not in (BAT_REGION, METADATA_REGION):
            if flags & VHDX_REQUIRED:
                raise DiskFormatError(f"{entry} is a required region imagevet does not read")
            continue
        if offset < MIB or offset % MIB or not length or length % MIB:
            raise DiskFormatError(f"{entry}: the region at byte {offset} is misaligned")
        if offset + length > file_size:
            raise _beyond(f"{entry}: the region at byte {offset}")
        regions[guid] = (offset, length)
    for guid, name in ((BAT_REGION, "BAT"), (METADATA_REGION, "metadata")):
        if guid not in regions:
            raise DiskFormatError(f"{what} at byte {table} has no {name} region")
    return regions


def _vhdx_metadata(handle: IO[bytes], region: tuple[int, int]) -> tuple[int, int, int]:
    """(virtual size, block size, logical sector size) from the metadata region, which must hold no
    parent locator and no item imagevet (and dissect) does not know."""
    start, length = region
    what = "the VHDX metadata table"
    signature, count = VHDX_METADATA_HEADER.unpack(_read_at(handle, start, 32, what))
    if signature != b"metadata" or count > VHDX_MAX_ENTRIES:
        raise DiskFormatError(f"{what} at byte {start} is missing or inconsistent")
    raw = _read_at(handle, start + 32, 32 * count, what)
    items: dict[bytes, bytes] = {}
    for index in range(count):
        item, offset, size, _ = VHDX_METADATA_ENTRY.unpack_from(raw, 32 * index)
        entry = f"VHDX metadata entry {index} at byte {start + 32 + 32 * index}"
        if item == PARENT_LOCATOR:
            raise DiskFormatError(f"the VHDX is a differencing disk that needs its parent; {FLATTEN}")
        if item not in KNOWN_ITEMS:
            raise DiskFormatError(f"{entry} is an item imagevet does not read")
        if item in items:
            raise DiskFormatError(f"{entry} names an item twice")
        if offset < 64 * KIB or size > 64 or offset + size > length:
            raise DiskFormatError(f"{entry} lies outside the metadata region")
        items[item] = _read_at(handle, start + offset, size, f"{entry}: the item")
    try:
        block, flags = struct.unpack("<II", items[FILE_PARAMETERS])
        (size,) = struct.unpack("<Q", items[VIRTUAL_DISK_SIZE])
        (sector,) = struct.unpack("<I", items[LOGICAL_SECTOR_SIZE])
        if len(items[VIRTUAL_DISK_ID]) != 16:
            raise KeyError("id")
    except (KeyError, struct.error) as exc:
        raise DiskFormatError(f"{what} at byte {start} lacks an item the disk needs") from exc
    if flags & VHDX_HAS_PARENT:
        raise DiskFormatError(f"the VHDX is a differencing disk that needs its parent; {FLATTEN}")
    if not MIB <= block <= 256 * MIB or block & (block - 1):
        raise DiskFormatError(f"{what} at byte {start} gives an absurd block size")
    if sector not in (512, 4096):
        raise DiskFormatError(f"{what} at byte {start} gives an absurd sector size")
    if not 0 < size <= MAX_VIRTUAL_SIZE or size % sector:
        raise DiskFormatError(f"{what} at byte {start} gives an absurd virtual size")
    return size, block, sector


def _check_vhdx_bat(
    handle: IO[bytes], region: tuple[int, int], size: int, block: int, sector: int, file_size: int
) -> None:
    """Every payload block the BAT places must lie inside the file (the last one as far as the disk
    reaches into it); a partially present block needs a parent."""
    start, length = region
    ratio = (1 << 23) * sector // block  # payload blocks per sector-bitmap entry (a chunk)
    blocks = -(-size // block)
    if blocks > MAX_BLOCKS:
        raise DiskFormatError(f"the VHDX BAT at byte {start} has more blocks than imagevet reads (absurd)")
    entries = blocks + (blocks - 1) // ratio
    if 8 * entries > length:
        raise DiskFormatError(f"the VHDX BAT at byte {start} is too small for the disk")
    for first in range(0, entries, BAT_CHUNK):
        count = min(BAT_CHUNK, entries - first)
        chunk = array("Q", _read_at(handle, start + 8 * first, 8 * count, "the VHDX BAT"))
        if sys.byteorder == "big":
            chunk.byteswap()  # the BAT is little-endian
        for position, entry in enumerate(chunk, start=first):
            payload, bitmap = divmod(position, ratio + 1)
            if bitmap == ratio:  # a sector bitmap entry: read only for partially present blocks
                continue
            index = payload * ratio + bitmap
            state, offset = entry & 7, (entry >> 20) * MIB
            if state in (BLOCK_NOT_PRESENT, BLOCK_UNDEFINED, BLOCK_ZERO, BLOCK_UNMAPPED):
                continue
            what = f"VHDX BAT entry {position}"
            if state == BLOCK_PARTIALLY_PRESENT:
                raise DiskFormatError(f"{what}: the block is partly in a parent disk; {FLATTEN}")
            if state != BLOCK_FULLY_PRESENT:
                raise DiskFormatError(f"{what} has a block state imagevet does not know")
            if offset + min(block, size - index * block) > file_size:
                raise _beyond(f"{what}: block at byte {offset}")
