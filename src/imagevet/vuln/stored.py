"""The ready form of an affected entry's ranges and versions, and of the hit an entry of the usual shape
makes, as the database stores them (schema 5).

Parsed once, at import: each ECOSYSTEM range is kept as the advisory gives it (its description names the
events in that order) and, when the ecosystem's version scheme is known (``Debian:12`` -> deb), also with
its events already sorted by that scheme, so a scan neither decodes JSON nor sorts per record. The text
form needs only ``str.split``: a range starts with ``RANGE``, each event with ``EVENT`` then one letter
for its kind, each listed version (and each alias of an advisory) with ``EVENT``. Versions and aliases
holding a control character are refused at parsing (osv.py), so neither separator can occur inside one.

An entry of the usual Debian shape (``introduced 0, fixed F``, entries.ENTRY_BELOW) also keeps, in its row
and in the scan's index, the texts its findings are made of (``encode_hit``): the advisory's id, aliases,
severity (the entry's own rating where the advisory has none), score, whether it is withdrawn, then F and
the summary, joined by ``RANGE``. A scan reads that one column instead of joining the advisory's row: the
join and the eight columns cost a quarter of a scan of 1,000 packages (docs/benchmarks.md). Ids are
printable and aliases and F hold no control character (osv.py); the summary, which may, comes last, so a
split at the first six separators gives the fields back whatever it holds.
"""

from __future__ import annotations

import functools

from imagevet.errors import VersionError
from imagevet.versions import compare

RANGE = "\x1e"
EVENT = "\x1f"
Events = tuple[tuple[str, str], ...]
Ranges = tuple[Events, ...]

_LETTER = {"introduced": "i", "fixed": "f", "last_affected": "l", "limit": "m"}
_KIND = {letter: kind for kind, letter in _LETTER.items()}
_FROM_ZERO = ("introduced", "0")
# The text form of the usual Debian range, ``introduced 0, fixed F``: this prefix, then F.
USUAL_PREFIX = RANGE + EVENT + "i0" + EVENT + "f"

# The version scheme of each OSV ecosystem family imagevet matches (ecosystem.py names the ecosystems).
_SCHEMES = {
    "Debian": "deb",
    "Ubuntu": "deb",
    "Alpine": "apk",
    "AlmaLinux": "rpm",
    "Rocky Linux": "rpm",
    "Red Hat": "rpm",
    "SUSE": "rpm",
    "openSUSE": "rpm",
    "Mariner": "rpm",
    "Azure Linux": "rpm",
}


def scheme_of(ecosystem: str) -> str:
    """The version scheme an ecosystem's versions follow, or "" when imagevet does not know it."""
    return _SCHEMES.get(ecosystem.split(":", 1)[0], "")


def sort_events(events: Events, scheme: str) -> Events:
    """The events in evaluation order (OSV): ``introduced 0`` first, then by version under ``scheme``."""

    def order(a: tuple[str, str], b: tuple[str, str]) -> int:
        if a[1] == b[1]:
            return 0
        if a[0] == "introduced" and a[1] == "0":
            return -1
        if b[0] == "introduced" and b[1] == "0":
            return 1
        return compare(scheme, a[1], b[1])

    return tuple(sorted(events, key=functools.cmp_to_key(order)))


def encode_ranges(ranges: Ranges) -> str:
    return "".join(
        [RANGE + "".join([EVENT + _LETTER[kind] + version for kind, version in r]) for r in ranges]
    )


def decode_ranges(text: str) -> Ranges:
    """The ranges encode_ranges wrote; ValueError (or KeyError, IndexError) for any other text, so that a
    damaged row is never read as "no ranges" (which would match nothing)."""
    if not text:
        return ()
    if text[0] != RANGE:
        raise ValueError("not ranges in the ready form")
    if text.count(RANGE) == 1:  # the usual case: one range
        if len(text) > 1 and text[1] != EVENT:
            raise ValueError("not events in the ready form")
        return (tuple([(_KIND[event[0]], event[1:]) for event in text.split(EVENT)[1:]]),)
    parts = text.split(RANGE)[1:]
    if any(part and part[0] != EVENT for part in parts):
        raise ValueError("not events in the ready form")
    return tuple(tuple((_KIND[event[0]], event[1:]) for event in part.split(EVENT)[1:]) for part in parts)


def usual_fix(text: str) -> str:
    """F of the text form of the one range ``introduced 0, fixed F``; ValueError for any other text."""
    if not text.startswith(USUAL_PREFIX) or RANGE in text[1:] or EVENT in text[len(USUAL_PREFIX) :]:
        raise ValueError("not the usual range in the ready form")
    return text[len(USUAL_PREFIX) :]


HIT_FIELDS = 7
WITHDRAWN = "w"


def encode_hit(
    advisory_id: str,
    aliases: tuple[str, ...],
    severity: str,
    score: float | None,
    withdrawn: bool,
    fix: str,
    summary: str,
) -> str:
    """The hit text of an entry of the usual shape (see above); ``severity`` already the one it reports."""
    fields = (advisory_id, encode_texts(aliases), severity, "" if score is None else repr(score))
    return RANGE.join((*fields, WITHDRAWN if withdrawn else "", fix, summary))


def encode_texts(versions: tuple[str, ...]) -> str:
    return "".join([EVENT + version for version in versions])


def decode_texts(text: str) -> tuple[str, ...]:
    return tuple(text.split(EVENT)[1:])


def ordered_for(ecosystem: str, ranges: Ranges) -> tuple[str, str | None]:
    """(the scheme the ranges were sorted for, their sorted text form or None when already in order).

    A scheme of "" means not sorted: the ecosystem is unknown, or a version is one the scheme refuses, in
    which case matching sorts again and reports the version where it always did (a scan's warning)."""
    scheme = _SCHEMES.get(ecosystem.partition(":")[0], "")
    if not scheme:
        return "", None
    for events in ranges:
        if len(events) > 2 or (len(events) == 2 and events[0] != _FROM_ZERO):
            break
    else:
        return scheme, None  # the usual shapes, in order under every scheme: no version is compared
    try:
        ordered = tuple(sort_events(events, scheme) for events in ranges)
    except VersionError:
        return "", None
    return scheme, (None if ordered == ranges else encode_ranges(ordered))
