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
_RUNS = re.compile(r"([^0-9]*)([0-9]*)")
# dpkg reads the epoch with strtol(): C white space, an optional sign, ASCII digits, up to INT_MAX.
_EPOCH = re.compile(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)")
_BLANKS = " \t"  # dpkg trims (and refuses inside a version) only blanks: space and tab
EPOCH_MAX = 2**31 - 1
# Where one version has run out of runs: the end of a non-digit run compares as 0.
_END = ((0,), 0)

Key = tuple[int, tuple[tuple[tuple[int, ...], int], ...], tuple[tuple[tuple[int, ...], int], ...]]


def _char_order(ch: str) -> int:
    if ch == "~":
        return -1
    if ch.isalpha():
        return ord(ch)
    return ord(ch) + 256


def _part_key(text: str) -> tuple[tuple[tuple[int, ...], int], ...]:
    """(non-digit run as orders ending in 0, number) pairs, closed by an end marker."""
    runs = []
    for letters, digits in _RUNS.findall(text):
        if not letters and not digits:
            continue
        runs.append(((*map(_char_order, letters), 0), ordered_int(digits) if digits else 0))
    if not runs:
        runs.append(((0,), 0))  # "" compares like "0"
    runs.append(_END)
    return tuple(runs)


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


def compare_deb(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` sorts before, equal to, or after ``b`` (dpkg semantics)."""
    ka, kb = deb_key(a), deb_key(b)
    return (ka > kb) - (ka < kb)
