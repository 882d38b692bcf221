"""Debian version ordering, as dpkg defines it (deb-version(7), dpkg's ``verrevcmp``).

``[epoch:]upstream[-revision]``. Epochs compare as numbers. Upstream and revision compare by alternating
runs: a run of non-digits compares character by character, where ``~`` sorts before everything, even the
end of the run, letters sort before every other character; then a run of digits compares as a number.

Speed matters (advisory matching compares the same versions many times), so each version is turned once
into a key whose natural tuple ordering is dpkg's ordering, and keys are cached.
"""

from __future__ import annotations

import functools
import re

from imagevet.errors import VersionError

_UPSTREAM_OK = re.compile(r"[A-Za-z0-9.+~:-]+")
_REVISION_OK = re.compile(r"[A-Za-z0-9.+~]+")
_RUNS = re.compile(r"(\D*)(\d*)")
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
        runs.append(((*map(_char_order, letters), 0), int(digits) if digits else 0))
    if not runs:
        runs.append(((0,), 0))  # "" compares like "0"
    runs.append(_END)
    return tuple(runs)


def parse_deb(version: str) -> tuple[int, str, str]:
    """Split into (epoch, upstream, revision); raise VersionError where dpkg reports an error."""
    text = version.strip()
    if not text:
        raise VersionError("empty Debian version")
    if any(ch.isspace() for ch in text):
        raise VersionError(f"Debian version {version!r} has embedded spaces")
    epoch = 0
    if ":" in text:
        epoch_text, text = text.split(":", 1)
        if not epoch_text.isdigit():
            raise VersionError(f"Debian version {version!r}: epoch is not a number")
        epoch = int(epoch_text)
    upstream, sep, revision = text.rpartition("-")
    if not sep:
        upstream, revision = text, ""
    elif not revision:
        raise VersionError(f"Debian version {version!r}: empty revision")
    if not upstream:
        raise VersionError(f"Debian version {version!r}: empty upstream version")
    if not _UPSTREAM_OK.fullmatch(upstream) or (revision and not _REVISION_OK.fullmatch(revision)):
        raise VersionError(f"Debian version {version!r} has invalid characters")
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
