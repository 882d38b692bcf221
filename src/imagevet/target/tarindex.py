"""A fast, strict reader of tar headers (ustar, GNU long names and sparse files, PAX), for indexing layers
in place.

Python's tarfile parses every header into rich objects; indexing a 13,000-entry layer with it costs about
a second. Indexing only needs each member's path, type, size, link target and data offset, so this reader
parses just those fields (POSIX.1-2001 ustar header layout; GNU ``L``/``K`` long names; PAX ``path``,
``linkpath``, ``size``, ``uid``, ``gid`` records; GNU sparse members in the old ``S`` form and the PAX
0.x/1.0 forms), checks every header's checksum, and skips data by seeking. GNU sparse members are indexed
but their content is never served.

It is strict where tar readers disagree or where a lenient parse would let a hostile archive cost more than
it is worth: numeric fields are plain octal (or GNU base-256, never negative), PAX records must be exactly
``LENGTH KEY=VALUE\\n`` and lie inside their header, a path may not contain NUL, metadata headers are
bounded in size and in number per member, every member's data must lie inside the stream, and a lone zero
block followed by another header (which GNU tar stops at and Go's archive/tar rejects) is refused.

Error messages name a header by its byte offset and never repeat bytes of the archive.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from typing import IO, NamedTuple

from imagevet.errors import TargetError

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)
MAX_META_BYTES = 1 << 20  # one long name or PAX header larger than this is hostile
MAX_META_HEADERS = 16  # L, K, x headers before one member (real archives use at most three)
MAX_PATH_BYTES = 4096  # PATH_MAX: a longer path or link target cannot be extracted on Linux
MAX_SIZE = (1 << 63) - 1  # off_t
_MAX_DECIMAL_DIGITS = 19  # enough for MAX_SIZE; more would also hit int()'s digit limit
_OCTAL = re.compile(rb"[0-7]+")
_OCTAL_FIELD = b"01234567 \0"
_HIGH_BYTES = bytes(range(128, 256))
_DECIMAL = re.compile(r"[0-9]+", re.ASCII)
# PAX keys that change what a member is; a global header (``g``) setting them is read differently by
# GNU tar (applies it to every later member) and Go's archive/tar (ignores it), so it is refused.
_IDENTITY_KEYS = ("path", "linkpath", "size", "uid", "gid")


class TarFormatError(TargetError):
    """The stream is not a well-formed tar archive (bad checksum, truncation, absurd sizes)."""


class Member(NamedTuple):
    """One archive member (a NamedTuple: built in C, the hot path of indexing a layer)."""

    name: str
    kind: str  # file | dir | symlink | hardlink | other | sparse
    size: int  # for sparse members the real (expanded) size
    linkname: str
    offset: int  # where the member's data starts in the stream
    mode: int = -1
    uid: int = -1
    gid: int = -1
    header: int = -1  # byte offset of the member's first header (its long-name or PAX header if any)


def _number(field: bytes, what: str, at: int) -> int:
    """A numeric header field: octal digits (space or NUL padded), or GNU base-256 (positive only)."""
    if field and field[0] & 0x80:
        if field[0] != 0x80:  # 0xff: a negative base-256 number; anything else is not a number
            raise TarFormatError(f"header at byte {at}: {what} is a negative or malformed number")
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    if _OCTAL.fullmatch(text) is None:
        raise TarFormatError(f"header at byte {at}: {what} is not an octal number")
    return int(text, 8)


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _checksum_ok(header: bytes, stored: int) -> bool:
    """The header checksum: the sum of its bytes with the checksum field read as spaces, unsigned (or,
    as some old tars wrote it, signed). zlib's Adler-32 of each half gives the exact byte sums
    (each below its modulus), three times faster than sum() on this hot path."""
    unsigned = (zlib.adler32(header[:256]) & 0xFFFF) + (zlib.adler32(header[256:]) & 0xFFFF) - 2
    unsigned += 8 * 32 - sum(header[148:156])
    if stored == unsigned:
        return True
    blanked = header[:148] + b" " * 8 + header[156:]
    high = len(blanked) - len(blanked.translate(None, _HIGH_BYTES))
    return stored == unsigned - 256 * high  # old tars summed signed chars


def _numbers(header: bytes, at: int) -> tuple[int, int, int, int]:
    """Mode, uid, gid and size of a header whose checksum is verified first (a block of junk is "bad
    checksum", not "bad mode"). Fast path: the numeric fields hold only octal digits, spaces and NULs."""
    try:
        if header[100:156].translate(None, _OCTAL_FIELD):
            raise ValueError("base-256 or junk")
        stored = int(header[148:156].strip(b" \0") or b"0", 8)
        numbers = (
            int(header[100:108].strip(b" \0") or b"0", 8),
            int(header[108:116].strip(b" \0") or b"0", 8),
            int(header[116:124].strip(b" \0") or b"0", 8),
            int(header[124:136].strip(b" \0") or b"0", 8),
        )
    except ValueError:  # the slow path names the field that is wrong
        try:
            stored = _number(header[148:156], "checksum", at)
        except TarFormatError:
            stored = -1
        if not _checksum_ok(header, stored):
            raise TarFormatError(f"bad header checksum at byte {at}") from None
        return (
            _number(header[100:108], "mode", at),
            _number(header[108:116], "uid", at),
            _number(header[116:124], "gid", at),
            _number(header[124:136], "size", at),
        )
    if not _checksum_ok(header, stored):
        raise TarFormatError(f"bad header checksum at byte {at}")
    return numbers


def pax_records(data: bytes, at: int) -> dict[str, str]:
    """The records of a PAX extended header (``LENGTH KEY=VALUE\\n``, LENGTH counting the whole record).

    A record that is malformed, overruns the header, or does not advance is refused; an empty value
    removes the key (POSIX: the field falls back to the ustar header)."""
    records: dict[str, str] = {}
    position = 0
    count = 0
    while position < len(data):
        if data[position] == 0 and not data[position:].strip(b"\0"):
            break  # NUL padding after the last record (some writers leave it)
        count += 1
        space = data.find(b" ", position, position + _MAX_DECIMAL_DIGITS + 1)
        digits = data[position:space] if space > position else b""
        if not digits.isdigit() or len(digits) > 12:
            raise TarFormatError(f"PAX header at byte {at}: record {count} has no valid length")
        length = int(digits)
        end = position + length
        if length <= len(digits) + 2 or end > len(data) or data[end - 1] != 0x0A:
            raise TarFormatError(f"PAX header at byte {at}: record {count} has a wrong length")
        key, equals, value = data[space + 1 : end - 1].partition(b"=")
        if not equals or not key:
            raise TarFormatError(f"PAX header at byte {at}: record {count} is not KEY=VALUE")
        try:
            name = key.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TarFormatError(
                f"PAX header at byte {at}: record {count} has a key that is not UTF-8"
            ) from exc
        if value:
            records[name] = value.decode("utf-8", "surrogateescape")
        else:
            records.pop(name, None)
        position = end
    return records


def _check_global(records: dict[str, str], at: int) -> None:
    """A global PAX header may carry comments (``git archive`` writes one), not member fields."""
    if any(key in _IDENTITY_KEYS or key.startswith("GNU.sparse") for key in records):
        raise TarFormatError(f"global PAX header at byte {at} sets member fields")


def _pax_number(pax: dict[str, str], key: str, at: int) -> int | None:
    value = pax.get(key)
    if value is None:
        return None
    if _DECIMAL.fullmatch(value) is None or len(value) > _MAX_DECIMAL_DIGITS:
        raise TarFormatError(f"PAX header at byte {at}: {key} is not a decimal number")
    number = int(value)
    if number > MAX_SIZE:
        raise TarFormatError(f"PAX header at byte {at}: {key} is out of range")
    return number


def _path(value: str, what: str, at: int) -> str:
    if "\0" in value:
        raise TarFormatError(f"header at byte {at}: {what} contains a NUL byte")
    if len(value) * 4 > MAX_PATH_BYTES and len(value.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise TarFormatError(f"header at byte {at}: {what} is longer than {MAX_PATH_BYTES} bytes")
    return value


_KINDS = {
    b"0": "file",
    b"\0": "file",
    b"7": "file",
    b"5": "dir",
    b"D": "dir",  # GNU dumpdir: a directory whose data lists its contents
    b"2": "symlink",
    b"1": "hardlink",
    b"S": "sparse",
    b"3": "other",
    b"4": "other",
    b"6": "other",
}
_META = (b"L", b"K", b"x", b"g")
_HEADER_ONLY = (b"1", b"2", b"3", b"4", b"5", b"6")


def _extent(stream: IO[bytes]) -> Callable[[int], bool]:
    """A test "does the stream hold byte offsets below N": a spooled stream decompresses up to N on demand
    (its ``reach``); a plain file knows its length."""
    reach = getattr(stream, "reach", None)
    if callable(reach):
        return lambda upto: bool(reach(upto))
    position = stream.tell()
    end = stream.seek(0, 2)
    stream.seek(position)
    return lambda upto: upto <= end


def _read_exact(stream: IO[bytes], size: int, what: str, at: int) -> bytes:
    data = stream.read(size)
    if len(data) < size:
        raise TarFormatError(f"{what} at byte {at} is truncated")
    return data


def _sparse_extensions(stream: IO[bytes], header: bytes, at: int, available: Callable[[int], bool]) -> int:
    """Skip the extension blocks of an old-GNU sparse member's map; returns how many there were."""
    count = 0
    extended = header[482]
    while extended:
        block_at = at + BLOCK * (count + 1)
        if not available(block_at + BLOCK):
            raise TarFormatError(f"sparse map of the header at byte {at} is truncated")
        block = _read_exact(stream, BLOCK, "sparse map", block_at)
        extended = block[504]
        count += 1
    return count


def members(stream: IO[bytes], *, require_end: bool = True) -> Iterator[Member]:
    """Yield the members of a tar stream; raises TarFormatError on malformed or truncated input.

    ``require_end``: a stream that stops at a member boundary without the end-of-archive block is
    refused as truncated, unless the caller knows the stream is complete (its digest or its compression
    trailer was checked), since some writers leave the end blocks out."""
    long_name: str | None = None
    long_link: str | None = None
    pax: dict[str, str] = {}
    first_header = -1
    meta_headers = 0
    position = stream.tell()
    available = _extent(stream)
    while True:
        header = stream.read(BLOCK)
        if len(header) == 0:
            if meta_headers:
                raise TarFormatError(f"header at byte {first_header} is not followed by its member")
            if require_end:
                raise TarFormatError(f"ends at byte {position} without the end-of-archive block (truncated)")
            return
        if len(header) < BLOCK:
            raise TarFormatError(f"truncated header at byte {position}")
        if header == ZERO_BLOCK:
            if meta_headers:
                raise TarFormatError(f"header at byte {first_header} is not followed by its member")
            following = stream.read(BLOCK)
            if following and following != ZERO_BLOCK[: len(following)]:
                raise TarFormatError(f"a lone zero block at byte {position} is followed by more data")
            return
        mode, uid, gid, size = _numbers(header, position)
        if first_header < 0:
            first_header = position
        kind_flag = header[156:157]
        data_offset = position + BLOCK
        if kind_flag in _META:
            meta_headers += 1
            if meta_headers > MAX_META_HEADERS:
                raise TarFormatError(f"more than {MAX_META_HEADERS} metadata headers before byte {position}")
            if size > MAX_META_BYTES:
                raise TarFormatError(f"oversized metadata header at byte {position}")
            padded = (size + BLOCK - 1) // BLOCK * BLOCK
            data = stream.read(padded)[:size]
            if len(data) < size:
                raise TarFormatError(f"truncated metadata at byte {position}")
            if kind_flag == b"L":
                long_name = _path(_text(data), "long name", position)
            elif kind_flag == b"K":
                long_link = _path(_text(data), "long link name", position)
            elif kind_flag == b"x":
                pax.update(pax_records(data, position))
            else:
                _check_global(pax_records(data, position), position)
            position = data_offset + padded
            continue
        if kind_flag == b"V" and not meta_headers:  # GNU tar's volume label (tar -V): not a member
            first_header = -1
            position = data_offset + (size + BLOCK - 1) // BLOCK * BLOCK
            stream.seek(position)
            continue
        if kind_flag in (b"M", b"V"):
            raise TarFormatError(f"header at byte {position} is part of a multi-volume archive")
        member, position = _member(
            stream,
            header,
            kind_flag,
            (mode, uid, gid, size),
            pax,
            long_name,
            long_link,
            first_header,
            position,
            available,
        )
        yield member
        long_name = long_link = None
        pax = {}
        first_header = -1
        meta_headers = 0
        stream.seek(position)


def _member(
    stream: IO[bytes],
    header: bytes,
    kind_flag: bytes,
    numbers: tuple[int, int, int, int],
    pax: dict[str, str],
    long_name: str | None,
    long_link: str | None,
    first: int,
    at: int,
    available: Callable[[int], bool],
) -> tuple[Member, int]:
    """The member whose (last) header is ``header`` at byte ``at``, and where the next header starts."""
    mode, uid_field, gid_field, size = numbers
    kind = _KINDS.get(kind_flag, "file")  # POSIX: an unknown type is read as a regular file
    name = long_name or _text(header[0:100])
    if long_name is None and header[257:263] == b"ustar\x00" and header[345] != 0:
        name = f"{_text(header[345:500])}/{name}"
    linkname = long_link or (_text(header[157:257]) if kind in ("symlink", "hardlink") else "")
    stored = size
    uid: int | None = None
    gid: int | None = None
    if pax:
        name = pax.get("path", name)
        linkname = pax.get("linkpath", linkname)
        pax_size = _pax_number(pax, "size", first)
        if pax_size is not None:
            size = stored = pax_size
        uid = _pax_number(pax, "uid", first)
        gid = _pax_number(pax, "gid", first)
    name = _path(name, "path", first)
    if linkname:
        linkname = _path(linkname, "link name", first)
    if size > MAX_SIZE:
        raise TarFormatError(f"header at byte {at}: size is out of range")
    data_offset = at + BLOCK
    if kind == "sparse":
        data_offset += BLOCK * _sparse_extensions(stream, header, at, available)
        size = _number(header[483:495], "sparse real size", at)
        if size > MAX_SIZE:
            raise TarFormatError(f"header at byte {at}: sparse real size is out of range")
    elif pax and ("GNU.sparse.major" in pax or "GNU.sparse.size" in pax or "GNU.sparse.realsize" in pax):
        kind = "sparse"
        real = _pax_number(pax, "GNU.sparse.realsize", first)
        if real is None:
            real = _pax_number(pax, "GNU.sparse.size", first)
        size = real if real is not None else size
        if "GNU.sparse.name" in pax:
            name = _path(pax["GNU.sparse.name"], "sparse name", first)
    if kind_flag in _HEADER_ONLY:
        stored = size = 0  # Go's archive/tar and Python's tarfile both ignore these types' size field
    padded = (stored + BLOCK - 1) // BLOCK * BLOCK
    if not available(data_offset + stored):
        raise TarFormatError(
            f"member whose header is at byte {first}: its data runs past the end (truncated)"
        )
    member = Member(
        name,
        kind,
        size,
        linkname,
        data_offset,
        mode & 0o7777,
        uid if uid is not None else uid_field,
        gid if gid is not None else gid_field,
        first,
    )
    return member, data_offset + padded
