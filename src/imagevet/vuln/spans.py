"""An affected entry as intervals of Debian version keys, so the database finds the entries a version lies in.

A scan of 1,000 packages against 200,000 advisories meets ~40,000 affected entries; building a Python object
for each and comparing versions one by one was most of its time. At import, each entry of a Debian or
Ubuntu ecosystem becomes spans ``(what, lo, hi, fix, matched)``: the versions whose key k has
``lo <= k < hi``, where a key is a version turned into one string whose plain order (Python's, and SQLite's
BINARY collation) is dpkg's order (versions.deb.deb_sort_text), ``lo`` "" is no lower end and ``hi`` None no
upper end. A version in a span is affected, with that span's ``fix``; ``what`` is the range's index (a
listed version's: after all ranges), and the smallest ``what`` that holds decides, as the matcher's loop
over ranges then listed versions does. The usual shape, one range ``introduced 0, fixed F`` (most Debian
records), needs no span: its entry keeps F's key (usual_below) and holds every version below it.

The spans are not a second statement of OSV's rules: between two consecutive event versions (and at each)
every comparison a range makes has the same result, so each such region is judged once by the matcher's
own evaluation (matcher.evaluate_against), with the version's position standing in for it, and
neighbouring regions with the same outcome are joined.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from imagevet.errors import VersionError
from imagevet.versions.deb import deb_sort_text
from imagevet.vuln.matcher import describe_range, evaluate_against, first_fix
from imagevet.vuln.stored import Events, Ranges, sort_events

# (what, lo, hi, fix, matched): the keys k with lo <= k < hi (hi None: no upper end).
Span = tuple[int, str, str | None, str | None, str]
_FROM_ZERO = ("introduced", "0")
# Each of a range's 2n + 1 regions is judged over its n events: an entry with more events than this (no
# real advisory has a dozen) is left to the matcher, which is linear, so a hostile record of thousands of
# events costs an import no more than before (a record of 4,000 events took 20 s to span).
MOST_EVENTS = 64
NO_LOWER_END = ""  # below every key: keys start with the epoch's length code point, U+0100 or more
# A bound between a key k and every greater key: no key is a proper prefix of another (deb_sort_text), so
# a key above k differs from it at a position inside k, by a greater code point, and so is above k + any
# suffix too; k + "\x01" is above k itself. So "above k" is "at least k + JUST_ABOVE", and "at most k" is
# "below k + JUST_ABOVE": every span is half-open.
JUST_ABOVE = "\x01"


def usual_below(ranges: Ranges, versions: tuple[str, ...]) -> str | None:
    """For the usual shape of a Debian entry, the one range ``introduced 0, fixed F`` and no listed
    versions, F's key: the entry holds exactly the versions below it (kept in the entry's own row, not as
    a span). None for any other entry, or an F dpkg's order refuses."""
    if versions or len(ranges) != 1 or len(ranges[0]) != 2 or ranges[0][0] != _FROM_ZERO:
        return None
    kind, version = ranges[0][1]
    if kind != "fixed":
        return None
    try:
        return deb_sort_text(version)
    except VersionError:
        return None


def spans_of(ranges: Ranges, versions: tuple[str, ...]) -> list[Span] | None:
    """The spans of one Debian-scheme entry; None when a version in it is one dpkg's order refuses (the
    matcher then judges the entry itself and warns where it always did) or it has over MOST_EVENTS events."""
    if sum(len(events) for events in ranges) > MOST_EVENTS:
        return None
    try:
        spans = [span for what, events in enumerate(ranges) for span in _range_spans(what, events)]
        fix = first_fix(ranges)
        for offset, listed in enumerate(versions):
            key = deb_sort_text(listed)
            spans.append((len(ranges) + offset, key, key + JUST_ABOVE, fix, f"listed version {listed}"))
    except VersionError:
        return None
    return spans


def _range_spans(what: int, given: Events) -> list[Span]:
    events = sort_events(given, "deb")
    keys = sorted({deb_sort_text(version) for _, version in events})
    position = {version: bisect.bisect_left(keys, deb_sort_text(version)) for _, version in events}
    matched = describe_range(given)
    # Regions in order: 2i is the open interval below keys[i] (above keys[i - 1]), 2i + 1 is keys[i] itself,
    # 2 len(keys) is above the last key. Region r starts at _bound(r) and ends where region r + 1 starts.
    regions = range(2 * len(keys) + 1)
    outcomes = [evaluate_against(events, _region_compare(region, position)) for region in regions]
    spans: list[Span] = []
    start = 0
    for region in range(1, len(outcomes) + 1):
        if region < len(outcomes) and outcomes[region] == outcomes[start]:
            continue
        affected, fix = outcomes[start]
        if affected:
            end = _bound(region, keys) if region < len(outcomes) else None
            spans.append((what, _bound(start, keys), end, fix, matched))
        start = region
    return spans


def _region_compare(region: int, position: dict[str, int]) -> Callable[[str], int]:
    """How a version in ``region`` compares with each event version (by the event version's key index)."""
    doubled = region - 1  # a key's region is 2i + 1: compare doubled positions, 2i for key i

    def against(version: str) -> int:
        other = 2 * position[version]
        return (doubled > other) - (doubled < other)

    return against


def _bound(region: int, keys: list[str]) -> str:
    """The smallest key in ``region``'s half-open interval (its lower end)."""
    if region == 0:
        return NO_LOWER_END
    if region % 2:
        return keys[region // 2]  # the key itself
    return keys[region // 2 - 1] + JUST_ABOVE  # just above the key before
