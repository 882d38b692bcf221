"""Debian version comparison, as dpkg's ``verrevcmp`` defines it (deb-version(7)).

``[epoch:]upstream[-revision]``: epochs compare numerically; upstream and revision compare by alternating
non-digit runs (where ``~`` sorts before everything, even the end of the string, and letters sort before
other characters) and digit runs compared as numbers.
"""

from __future__ import annotations

import re

from imagevet.errors import VersionError

_VALID_UPSTREAM = re.compile(r"[A-Za-z0-9.+~:-]+")


def _order(ch: str) -> int:
    if ch == "~":
        return -1
    if ch.isdigit():
        return 0
    if ch.isalpha():
        return ord(ch)
    return ord(ch) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def parse_deb(version: str) -> tuple[int, str, str]:
    """Split into (epoch, upstream, revision); raise VersionError for what dpkg rejects."""
    text = version.strip()
    if not text or any(ch.isspace() for ch in text):
        raise VersionError(f"invalid Debian version {version!r}")
    epoch = 0
    if ":" in text:
        epoch_text, text = text.split(":", 1)
        if not epoch_text.isdigit():
            raise VersionError(f"invalid epoch in Debian version {version!r}")
        epoch = int(epoch_text)
    upstream, _, revision = text.rpartition("-") if "-" in text else (text, "", "")
    if not upstream or not _VALID_UPSTREAM.fullmatch(upstream):
        raise VersionError(f"invalid upstream version in Debian version {version!r}")
    return epoch, upstream, revision


def compare_deb(a: str, b: str) -> int:
    """Negative, zero or positive as ``a`` sorts before, equal to, or after ``b`` (dpkg semantics)."""
    ea, ua, ra = parse_deb(a)
    eb, ub, rb = parse_deb(b)
    if ea != eb:
        return -1 if ea < eb else 1
    result = _verrevcmp(ua, ub) or _verrevcmp(ra, rb)
    return (result > 0) - (result < 0)
