"""RPM header blobs, as stored in every rpmdb backend: parse the few tags an inventory needs.

Layout (big-endian): ``il`` index entries and ``dl`` data bytes, then ``il`` 16-byte entries
(tag, type, offset, count), then the data store. Every offset and count is bounds-checked, so a corrupt
blob raises RpmHeaderError instead of reading garbage.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH = 1000, 1001, 1002, 1003
TAG_SIZE, TAG_VENDOR, TAG_LICENSE, TAG_ARCH, TAG_SOURCERPM = 1009, 1011, 1014, 1022, 1044
TYPE_INT32, TYPE_STRING, TYPE_STRING_ARRAY, TYPE_I18NSTRING = 4, 6, 8, 9
WANTED = {
    TAG_NAME,
    TAG_VERSION,
    TAG_RELEASE,
    TAG_EPOCH,
    TAG_SIZE,
    TAG_VENDOR,
    TAG_LICENSE,
    TAG_ARCH,
    TAG_SOURCERPM,
}
MAX_INDEX_ENTRIES = 0x10000  # librpm's own sanity limit on il


class RpmHeaderError(ValueError):
    """The blob is not a well-formed rpm header; the message gives sizes and offsets, never bytes."""


@dataclass(frozen=True)
class RpmHeader:
    """The fields of one rpm header that the inventory reports."""

    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    source_rpm: str
    license: str
    vendor: str
    size: int | None


def _string(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    if end < 0:
        raise RpmHeaderError("unterminated string in header data")
    return data[offset:end].decode("utf-8", "replace")


def parse_header(blob: bytes) -> RpmHeader:
    if len(blob) < 8:
        raise RpmHeaderError("header blob shorter than its 8-byte preamble")
    il, dl = struct.unpack_from(">II", blob, 0)
    if il == 0 or il > MAX_INDEX_ENTRIES or 8 + 16 * il + dl > len(blob):
        raise RpmHeaderError(f"header blob sizes do not fit (entries {il}, data {dl}, blob {len(blob)})")
    data = blob[8 + 16 * il : 8 + 16 * il + dl]
    strings: dict[int, str] = {}
    ints: dict[int, int] = {}
    for index in range(il):
        tag, kind, offset, count = struct.unpack_from(">IIII", blob, 8 + 16 * index)
        if tag not in WANTED:
            continue
        if offset >= dl:
            raise RpmHeaderError(f"tag {tag}: offset {offset} outside the data store")
        if kind in (TYPE_STRING, TYPE_I18NSTRING, TYPE_STRING_ARRAY):
            strings[tag] = _string(data, offset)
        elif kind == TYPE_INT32 and count >= 1:
            if offset + 4 > dl:
                raise RpmHeaderError(f"tag {tag}: integer outside the data store")
            ints[tag] = struct.unpack_from(">i", data, offset)[0]
    if TAG_NAME not in strings:
        raise RpmHeaderError("header has no name")
    return RpmHeader(
        name=strings[TAG_NAME],
        version=strings.get(TAG_VERSION, ""),
        release=strings.get(TAG_RELEASE, ""),
        epoch=ints.get(TAG_EPOCH),
        arch=strings.get(TAG_ARCH, ""),
        source_rpm=strings.get(TAG_SOURCERPM, ""),
        license=strings.get(TAG_LICENSE, ""),
        vendor=strings.get(TAG_VENDOR, ""),
        size=ints.get(TAG_SIZE),
    )


def split_source_rpm(source_rpm: str) -> tuple[str, str]:
    """``util-linux-2.32.1-42.el8_8.src.rpm`` -> (``util-linux``, ``2.32.1-42.el8_8``)."""
    base = source_rpm.removesuffix(".rpm")
    base = base.rsplit(".", 1)[0] if base.endswith((".src", ".nosrc")) else base
    parts = base.rsplit("-", 2)
    if len(parts) != 3:
        return base, ""
    return parts[0], f"{parts[1]}-{parts[2]}"
