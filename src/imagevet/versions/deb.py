"""Debian version ordering, as dpkg defines it (deb-version(7), dpkg's ``verrevcmp``).

``[epoch:]upstream[-revision]``. Epochs compare as numbers. Upstream and revision compare by alternating
runs: a run of non-digits compares character by character, where ``~`` sorts before everything, even the
end of the run, letters sort before every other character; then a run of digits compares as a number
(of any length, as dpkg compares digit by digit). Only ASCII digits and letters count, as in dpkg.

Speed matters (advisory matching compares the same versions many times), so each version is turned once
into a key whose natural tuple ordering is dpkg's ordering, and keys are cached.
"""

from __future__ import annotations

import functools
import re

from imagevet.errors import VersionError
from imagevet.versions.text import ordered_int, shown

_UPSTREAM_OK = re.compile(r"[A-Za-z0-9.+~:-]+")
_REVISION_OK = re.compile(r"[A-Za-z0-9.+~]+")
# dpkg reads the epoch with strtol(): C white space, an optional sign, ASCII digits, up to INT_MAX.
_EPOCH = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)")
_BLANKS = " \t"  # dpkg trims (and refuses inside a version) only blanks: space and tab
EPOCH_MAX = 2**31 - 1
Key = tuple[int, str, str]


def _char_order(ch: str) -> int:
    if ch == "~":
        return -1
    if ch.isalpha():
        return ord(ch)
    return ord(ch) + 256


# A part (upstream or revision) becomes one string whose plain string order is dpkg's order, so that a
# comparison is one C string comparison and building the key is a translate and a split, not a Python call
# per character. The part is read as dpkg reads it, as (non-digit run, digit run) pairs:
# - each non-digit character becomes the code point of its dpkg order shifted by 2 ("~" 1, letters before
#   everything else; only the characters parse_deb accepts can occur, none of them a digit afterwards),
#   and the run is closed by the end mark 2: "~" sorts before the end of a run, letters after it;
# - each digit run becomes its length without leading zeros as one code point (0x100 + length) and then
#   its significant digits: numbers of any length compare by value (a longer number is larger), and the
#   length prefix keeps the two strings aligned pair by pair;
# - the part ends with one more (empty run, 0) pair, dpkg's end of the string.
# tests/versions check this order against dpkg --compare-versions.
_ORDERS = str.maketrans(
    {c: chr(_char_order(c) + 2) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.+~:-"}
)
_DIGIT_RUNS = re.compile(r"([0-9]+)")
_RUN_END = "\x02"
_NO_DIGITS = chr(0x100)
_END = _RUN_END + _NO_DIGITS  # an empty run and the number 0
_LONGEST_RUN = 0xD800 - 0x101  # 0x100 + a run's length stays below the surrogate code points


def _part_key(text: str) -> str:
    parts = _DIGIT_RUNS.split(text.translate(_ORDERS))  # non-digits, digits, ..., non-digits
    runs = []
    for index in range(0, len(parts) - 1, 2):
        digits = parts[index + 1].lstrip("0")
        runs.append(f"{parts[index]}{_RUN_END}{chr(0x100 + len(digits))}{digits}")
    if parts[-1]:
        runs.append(parts[-1] + _END)
    if not runs:
        runs.append(_END)  # "" compares like "0"
    runs.append(_END)
    return "".join(runs)


def _epoch(text: str, version: str) -> int:
    """The number before the first colon, as dpkg's parseversion() accepts it."""
    match = _EPOCH.match(text)
    if match is None:
        raise VersionError(f"Debian version {shown(version)}: epoch is empty")
    if match.end() != len(text):
        raise VersionError(f"Debian version {shown(version)}: epoch is not a number")
    sign, digits = match.groups()
    value = ordered_int(digits)
    if sign == "-" and value:
        raise VersionError(f"Debian version {shown(version)}: epoch is negative")
    if value > EPOCH_MAX:
        raise VersionError(f"Debian version {shown(version)}: epoch is too big")
    return value


def parse_deb(version: str) -> tuple[int, str, str]:
    """Split into (epoch, upstream, revision); raise VersionError where dpkg reports an error or warning.

    dpkg only warns about characters outside its alphabet (and still compares); imagevet refuses them, as
    it refuses any version it cannot read exactly as dpkg does. Only ASCII digits are digits.
    """
    text = version.strip(_BLANKS)
    if not text:
        raise VersionError("empty Debian version")
    if " " in text or "\t" in text:
        raise VersionError(f"Debian version {shown(version)} has embedded spaces")
    epoch = 0
    colon = text.find(":")
    if colon >= 0:
        epoch = _epoch(text[:colon], version)
        text = text[colon + 1 :]
        if not text:
            raise VersionError(f"Debian version {shown(version)}: nothing after the epoch")
    upstream, sep, revision = text.rpartition("-")
    if not sep:
        upstream, revision = text, ""
    elif not revision:
        raise VersionError(f"Debian version {shown(version)}: empty revision")
    if not upstream:
        raise VersionError(f"Debian version {shown(version)}: empty upstream version")
    if not _UPSTREAM_OK.fullmatch(upstream) or (revision and not _REVISION_OK.fullmatch(revision)):
        raise VersionError(f"Debian version {shown(version)} has invalid characters")
    return epoch, upstream, revision


@functools.lru_cache(maxsize=65536)
def deb_key(version: str) -> Key:
    """A key whose ordering is dpkg's; raises VersionError for an invalid version."""
    epoch, upstream, revision = parse_deb(version)
    return epoch, _part_key(upstream), _part_key(revision)


@functools.lru_cache(maxsize=65536)
def deb_sort_text(version: str) -> str:
    """One string whose plain order (Python's, and SQLite's BINARY collation: UTF-8 bytes keep code point
    order) is dpkg's order, so a database can compare versions: the epoch as a digit run (its length as
    one code point, then its digits), then the upstream and revision keys. Each of the three is closed
    (a length prefix, or the end pair ``_END`` that no run of a longer key can start with), so comparing
    the concatenations compares them part by part. VersionError for an invalid version, or one whose
    digit run is too long to code as one code point below the surrogates."""
    epoch, upstream, revision = deb_key(version)
    if len(version) > _LONGEST_RUN:
        raise VersionError(f"Debian version {shown(version)} is too long to order in the database")
    digits = str(epoch) if epoch else ""
    return f"{chr(0x100 + len(digits))}{digits}{upstream}{revision}"


def compare_deb(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` sorts before, equal to, or after ``b`` (dpkg semantics)."""
    ka, kb = deb_key(a), deb_key(b)
    return (ka > kb) - (ka < kb)
