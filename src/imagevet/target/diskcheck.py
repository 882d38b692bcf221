"""Checks that a disk image is whole before it is read: every table, cluster, grain, partition and the
root filesystem must lie inside the file (or the virtual disk) that holds it.

dissect reads disk images lazily and leniently: a qcow2 cut short reads its missing clusters as zeros, a
raw disk cut short serves the partitions it still has, so a truncated image would be half-read and audited
as if it were whole. These checks read the containers' own metadata (qcow2 header, L1 and L2 tables;
VMDK sparse header, grain directory and grain tables; ext2/3/4 and XFS superblocks) with ``struct`` and
refuse, with a TargetError naming the structure by its index and byte offset (never its content):

- qcow2: unknown versions or incompatible features, encryption, a backing file or an external data file
  (both would make imagevet read another file than the one given), an L1 table too small for the disk,
  any table or data cluster beyond the end of the file;
- VMDK: a sparse extent whose grain directory, grain tables or grains lie beyond the end of the file, a
  snapshot that needs a parent disk, a descriptor naming extents that are not plain files beside it;
- any disk: a partition ending beyond the end of the disk, a filesystem larger than its volume or whose
  last block cannot be read.

VHD and VHDX have their own checks in diskcheck_vhd.py.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import IO

from imagevet.errors import TargetError

SECTOR = 512
QCOW2_HEADER = struct.Struct(">4sIQIIQIIQQIIQ")  # up to snapshots_offset (72 bytes)
QCOW2_V3 = struct.Struct(">QQQII")  # incompatible, compatible, autoclear features; refcount order; length
QCOW2_KNOWN_INCOMPATIBLE = 0b11111  # dirty, corrupt, external data file, compression type, extended L2
QCOW2_CORRUPT, QCOW2_DATA_FILE, QCOW2_EXTENDED_L2 = 1 << 1, 1 << 2, 1 << 4
QCOW2_OFFSET_MASK = 0x00FFFFFFFFFFFE00
QCOW2_COMPRESSED = 1 << 62
MAX_VIRTUAL_SIZE = 1 << 50  # 1 PiB: beyond it the image is absurd
QCOW2_MAX_L1_BYTES = 32 << 20  # qemu's QCOW_MAX_L1_SIZE (block/qcow2.h)
QCOW2_L1_SLACK = 4096  # entries beyond twice what the disk needs (32 KiB of table)
VMDK_ENTRIES_PER_TABLE = 512  # numGTEsPerGT: "always 512" in hosted sparse extents (VMware's VMDK spec)
VMDK_HEADER = struct.Struct("<4sIIQQQQIQQQB4sH")
VMDK_COMPRESSED = 1 << 16
VMDK_GD_AT_END = 0xFFFFFFFFFFFFFFFF
MAX_VMDK_GRAINS = 1 << 26


class DiskFormatError(TargetError):
    """The disk image is truncated, inconsistent, or refers to files outside itself."""


NEEDS_PARENT = "the VMDK is a snapshot that needs its parent disk; audit a flattened copy"


def _beyond(what: str) -> DiskFormatError:
    return DiskFormatError(f"{what} lies beyond the end of the file (truncated)")


def _read_at(handle: IO[bytes], offset: int, size: int, what: str) -> bytes:
    handle.seek(offset)
    data = handle.read(size)
    if len(data) < size:
        raise DiskFormatError(f"{what} at byte {offset} runs past the end of the file (truncated)")
    return data


# ---- qcow2 ---------------------------------------------------------------------------------------------
def check_qcow2(handle: IO[bytes], file_size: int) -> None:
    """Refuse a qcow2 image that is truncated or depends on other files (see the module docstring)."""
    fields = QCOW2_HEADER.unpack(_read_at(handle, 0, QCOW2_HEADER.size, "the qcow2 header"))
    version, backing_offset, cluster_bits, size, crypt = fields[1], fields[2], fields[4], fields[5], fields[6]
    l1_size, l1_offset, refcount_offset, refcount_clusters = fields[7], fields[8], fields[9], fields[10]
    if version not in (2, 3):
        raise DiskFormatError("qcow2 version is not 2 or 3")
    if not 9 <= cluster_bits <= 21:
        raise DiskFormatError("qcow2 cluster size is out of range")
    if size > MAX_VIRTUAL_SIZE:
        raise DiskFormatError("qcow2 virtual size is absurd")
    if crypt:
        raise DiskFormatError("the qcow2 image is encrypted")
    if backing_offset:
        raise DiskFormatError(
            "the qcow2 image has a backing file; audit a flattened copy (qemu-img convert -O qcow2)"
        )
    incompatible = 0
    if version == 3:
        incompatible = QCOW2_V3.unpack(_read_at(handle, 72, QCOW2_V3.size, "the qcow2 v3 header"))[0]
    if incompatible & ~QCOW2_KNOWN_INCOMPATIBLE:
        raise DiskFormatError("the qcow2 image uses incompatible features imagevet does not know")
    if incompatible & QCOW2_CORRUPT:
        raise DiskFormatError("the qcow2 image is marked corrupt")
    if incompatible & QCOW2_DATA_FILE:
        raise DiskFormatError("the qcow2 image keeps its data in an external file")
    cluster = 1 << cluster_bits
    entry_size = 16 if incompatible & QCOW2_EXTENDED_L2 else 8
    l2_entries = cluster // entry_size
    needed = -(-size // (cluster * l2_entries))
    if l1_size < needed:
        raise DiskFormatError("the qcow2 L1 table is too small for the disk")
    if l1_size > 2 * needed + QCOW2_L1_SLACK or 8 * l1_size > QCOW2_MAX_L1_BYTES:
        # qemu grows an L1 table by half again at most, and never past 32 MiB; a larger one only makes
        # imagevet (and dissect after it) read megabytes of table, over the network for a remote image
        raise DiskFormatError("the qcow2 L1 table is far larger than the disk needs")
    if l1_offset % cluster or l1_offset + 8 * l1_size > file_size:
        raise _beyond(f"the qcow2 L1 table at byte {l1_offset}")
    if refcount_offset % cluster or refcount_offset + refcount_clusters * cluster > file_size:
        raise _beyond(f"the qcow2 refcount table at byte {refcount_offset}")
    l1 = struct.unpack(f">{l1_size}Q", _read_at(handle, l1_offset, 8 * l1_size, "the qcow2 L1 table"))
    compressed_shift = 62 - (cluster_bits - 8)
    seen: set[int] = set()
    for index, entry in enumerate(l1):
        l2_offset = entry & QCOW2_OFFSET_MASK
        if not l2_offset or l2_offset in seen:
            continue
        seen.add(l2_offset)
        if l2_offset % cluster or l2_offset + cluster > file_size:
            raise _beyond(f"qcow2 L2 table {index} at byte {l2_offset}")
        table = _read_at(handle, l2_offset, cluster, f"qcow2 L2 table {index}")
        words = struct.unpack(f">{cluster // 8}Q", table)[:: entry_size // 8]
        _check_l2(words, index, cluster, compressed_shift, file_size)


def _check_l2(words: tuple[int, ...], table: int, cluster: int, shift: int, file_size: int) -> None:
    for position, entry in enumerate(words):
        if not entry:
            continue
        if entry & QCOW2_COMPRESSED:
            offset = entry & ((1 << shift) - 1)
            if offset >= file_size:
                raise _beyond(f"qcow2 L2 table {table} entry {position}: compressed cluster at byte {offset}")
            continue
        offset = entry & QCOW2_OFFSET_MASK
        if offset and offset + cluster > file_size:
            raise _beyond(f"qcow2 L2 table {table} entry {position}: cluster at byte {offset}")


# ---- VMDK ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Extent:
    access: str
    sectors: int
    kind: str  # FLAT | SPARSE | VMFS | ZERO | ...
    filename: str
    offset: int


_EXTENT = re.compile(r'(RW|RDONLY|NOACCESS)\s+(\d{1,20})\s+([A-Z]+)\s+"([^"]*)"(?:\s+(\d{1,20}))?\s*')
_PARENT = re.compile(r'parentCID\s*=\s*"?([0-9a-fA-F]+)"?')


def vmdk_descriptor(text: str) -> tuple[list[Extent], bool]:
    """The extents a VMDK descriptor lists, and whether it needs a parent disk (a snapshot)."""
    extents = []
    parent = False
    for line in text.splitlines():
        line = line.strip()
        match = _EXTENT.fullmatch(line)
        if match:
            access, sectors, kind, filename, offset = match.groups()
            extents.append(Extent(access, int(sectors), kind, filename, int(offset or 0)))
            continue
        found = _PARENT.fullmatch(line)
        if found and found.group(1).lower() != "ffffffff":
            parent = True
    return extents, parent


def check_vmdk_sparse(handle: IO[bytes], file_size: int, what: str) -> None:
    """Refuse a sparse VMDK extent whose grain directory, tables or grains lie beyond the end of its file,
    or whose embedded descriptor needs a parent disk."""
    header = VMDK_HEADER.unpack(_read_at(handle, 0, VMDK_HEADER.size, f"{what}: the VMDK header"))
    _, version, flags, capacity, grain, desc_offset, desc_size, per_table, _, gd_offset = header[:10]
    if gd_offset == VMDK_GD_AT_END:  # streamOptimized: the real header is the footer near the end
        if file_size < 1024:
            raise DiskFormatError(f"{what}: the VMDK footer is missing (truncated)")
        footer = _read_at(handle, file_size - 1024, VMDK_HEADER.size, f"{what}: the VMDK footer")
        header = VMDK_HEADER.unpack(footer)
        if header[0] != b"KDMV":
            raise DiskFormatError(f"{what}: the VMDK footer is missing (truncated)")
        _, version, flags, capacity, grain, desc_offset, desc_size, per_table, _, gd_offset = header[:10]
    if version not in (1, 2, 3) or grain < 8 or grain & (grain - 1) or per_table != VMDK_ENTRIES_PER_TABLE:
        # tiny grain tables would make the check read one table per few grains: over the network, a
        # file of a few MiB could cost gigabytes of requests before it is judged
        raise DiskFormatError(f"{what}: the VMDK header is inconsistent")
    if desc_offset and desc_size:
        if (desc_offset + desc_size) * SECTOR > file_size:
            raise _beyond(f"{what}: the embedded VMDK descriptor")
        length = min(desc_size * SECTOR, 1 << 20)
        raw = _read_at(handle, desc_offset * SECTOR, length, f"{what}: the descriptor")
        if vmdk_descriptor(raw.split(b"\0", 1)[0].decode("latin-1"))[1]:
            raise DiskFormatError(f"{what}: {NEEDS_PARENT}")
    grains = -(-capacity // grain)
    if grains > MAX_VMDK_GRAINS:
        raise DiskFormatError(f"{what}: the VMDK capacity is absurd")
    tables = -(-grains // per_table)
    directory = struct.unpack(
        f"<{tables}I", _read_at(handle, gd_offset * SECTOR, 4 * tables, f"{what}: the VMDK grain directory")
    )
    compressed = bool(flags & VMDK_COMPRESSED)
    seen: set[int] = set()
    for index, table_sector in enumerate(directory):
        if not table_sector or table_sector in seen:
            continue
        seen.add(table_sector)
        if len(seen) * 4 * per_table > file_size:  # distinct tables cannot hold more than the file
            raise DiskFormatError(f"{what}: the grain tables overlap or outnumber the file")
        table = struct.unpack(
            f"<{per_table}I",
            _read_at(handle, table_sector * SECTOR, 4 * per_table, f"{what}: grain table {index}"),
        )
        for position, sector in enumerate(table):
            end = sector * SECTOR + (12 if compressed else grain * SECTOR)
            if sector > 1 and end > file_size:
                raise _beyond(
                    f"{what}: grain table {index} entry {position}: grain at byte {sector * SECTOR}"
                )


# ---- volumes and filesystems ---------------------------------------------------------------------------
def check_gpt(disk: IO[bytes], disk_size: int) -> None:
    """A GPT disk records where its backup header is (the last sector): past the end means truncated."""
    for sector in (512, 4096):
        disk.seek(sector)
        head = disk.read(40)
        if head[:8] == b"EFI PART":
            alternate = struct.unpack_from("<Q", head, 32)[0]
            if (alternate + 1) * sector > disk_size:
                raise DiskFormatError("the backup GPT header lies beyond the end of the disk (truncated)")
            break
    disk.seek(0)  # dissect's partition readers start where the stream is


def check_inside(number: int, offset: int, size: int, disk_size: int) -> None:
    if offset < 0 or size < 0 or offset + size > disk_size:
        raise DiskFormatError(f"partition {number} ends beyond the end of the disk (truncated)")


def filesystem_size(volume: IO[bytes]) -> tuple[int, int] | None:
    """(size in bytes, block size) an ext2/3/4 or XFS superblock declares; None for other contents."""
    volume.seek(0)
    head = volume.read(2048)
    if len(head) >= 2048 and head[1024 + 0x38 : 1024 + 0x3A] == b"\x53\xef":
        superblock = head[1024:]
        blocks_lo = struct.unpack_from("<I", superblock, 4)[0]
        log_block = struct.unpack_from("<I", superblock, 24)[0]
        if log_block > 6:
            raise DiskFormatError("the ext filesystem's block size is absurd")
        incompat = struct.unpack_from("<I", superblock, 0x60)[0]
        high = 0
        if incompat & 0x80:  # 64bit
            volume.seek(1024 + 0x150)
            raw = volume.read(4)
            high = struct.unpack("<I", raw)[0] if len(raw) == 4 else 0
        block = 1024 << log_block
        return ((high << 32) | blocks_lo) * block, block
    if head[:4] == b"XFSB":
        block, blocks = struct.unpack_from(">IQ", head, 4)
        if not 512 <= block <= 65536:
            raise DiskFormatError("the XFS filesystem's block size is absurd")
        return blocks * block, block
    return None


def check_filesystem(volume: IO[bytes], base: IO[bytes], offset: int, limit: int) -> None:
    """Refuse a filesystem that does not fit in what holds it, or whose last block cannot be read
    (truncated). ``volume`` starts at ``offset`` of ``base``, which holds ``limit`` bytes; the check is
    against ``base`` because dissect reports GPT partitions one sector short (it treats the inclusive
    last LBA as exclusive), while the filesystem rightly fills the partition."""
    declared = filesystem_size(volume)
    if declared is None:
        return
    size, block = declared
    if offset + size > limit:
        raise DiskFormatError(
            f"the filesystem at byte {offset} is {size} bytes, beyond the end of the disk (truncated)"
        )
    base.seek(offset + size - block)
    if len(base.read(block)) < block:
        raise DiskFormatError(f"the last block of the filesystem at byte {offset} cannot be read (truncated)")
