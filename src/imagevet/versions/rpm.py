"""RPM version ordering, as librpm's ``rpmvercmp`` and ``labelCompare`` define it.

A full EVR is ``[epoch:]version[-release]``: the epoch compares as a number (missing is 0), then version
and release with rpmvercmp. rpmvercmp walks both strings in segments of letters or digits, skipping other
characters; ``~`` sorts before anything (pre-release), ``^`` sorts after the end of the string but before
anything else (post-release snapshot); a digit segment beats a letter segment; digits compare as numbers;
when one string runs out first, the other is newer.
"""

from __future__ import annotations

import functools

from imagevet.errors import VersionError
from imagevet.versions.text import shown


def _separator(ch: str) -> bool:
    return not (ch.isascii() and ch.isalnum()) and ch not in "~^"


@functools.lru_cache(maxsize=65536)
def rpmvercmp(a: str, b: str) -> int:
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while i < la and _separator(a[i]):
            i += 1
        while j < lb and _separator(b[j]):
            j += 1
        ca = a[i] if i < la else ""
        cb = b[j] if j < lb else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i += 1
            j += 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i += 1
            j += 1
            continue
        if not ca or not cb:
            break
        numeric = ca.isdigit()
        start_a, start_b = i, j
        if numeric:
            while i < la and a[i].isascii() and a[i].isdigit():
                i += 1
            while j < lb and b[j].isascii() and b[j].isdigit():
                j += 1
        else:
            while i < la and a[i].isascii() and a[i].isalpha():
                i += 1
            while j < lb and b[j].isascii() and b[j].isalpha():
                j += 1
        seg_a, seg_b = a[start_a:i], b[start_b:j]
        if not seg_b:
            return 1 if numeric else -1  # segments of different kinds: the number is newer
        if numeric:
            seg_a, seg_b = seg_a.lstrip("0"), seg_b.lstrip("0")
            if len(seg_a) != len(seg_b):
                return 1 if len(seg_a) > len(seg_b) else -1
        if seg_a != seg_b:
            return 1 if seg_a > seg_b else -1
    rest_a, rest_b = i < la, j < lb
    if not rest_a and not rest_b:
        return 0
    return 1 if rest_a else -1


def _valid_text(text: str) -> bool:
    """librpm works on C strings: no NUL, and text that has a UTF-8 form (no lone surrogates)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_evr(evr: str) -> tuple[str, str, str]:
    """``[epoch:]version[-release]`` as (epoch digits, version, release); VersionError where it is not one.

    The epoch is kept as its ASCII digits: librpm compares epochs with rpmvercmp, so an epoch of any
    length orders correctly (``int()`` would refuse 5,000 digits). A missing epoch is ``"0"``.
    """
    text = evr.strip()
    if not text or any(ch.isspace() for ch in text) or not _valid_text(text):
        raise VersionError(f"invalid RPM version {shown(evr)}")
    epoch = "0"
    if ":" in text:
        epoch, text = text.split(":", 1)
        if not (epoch.isascii() and epoch.isdigit()):
            raise VersionError(f"RPM version {shown(evr)}: epoch is not a number")
    version, sep, release = text.rpartition("-")
    if not sep:
        version, release = text, ""
    elif not release:
        raise VersionError(f"RPM version {shown(evr)}: empty release")
    if not version:
        raise VersionError(f"RPM version {shown(evr)}: empty version")
    return epoch, version, release


def compare_rpm(a: str, b: str) -> int:
    """-1, 0 or 1 comparing two ``[epoch:]version[-release]`` strings like rpm's labelCompare.

    As in rpm's dependency ranges, a side without a release matches any release of the same version.
    """
    ea, va, ra = parse_evr(a)
    eb, vb, rb = parse_evr(b)
    result = rpmvercmp(ea, eb)
    if result == 0:
        result = rpmvercmp(va, vb)
    if result == 0 and ra and rb:
        result = rpmvercmp(ra, rb)
    return result
