"""The scan's lookup where the database judges the versions: the entries each installed version lies in.

For Debian and Ubuntu, every affected entry whose versions dpkg's order accepts is stored as spans
(spans.py) or, in the usual shape, as the one bound below which it holds every version. Given installed
(source name, version key) pairs, one query per ecosystem and chunk of pairs returns only the entries and
spans that hold a version, each as the Hit its findings are made of: Python builds objects for the
findings, not for every entry of every installed package. Entries without spans (a version dpkg refuses,
over spans.MOST_EVENTS events, an unknown kind) and packages whose installed version has no key come back
whole, for the matcher to judge as before.
Everything comes back in the order the plain lookup gives (ecosystem, package name, entry), the order
findings are merged in, so both paths give the same findings.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from imagevet.vuln.entries import (
    CHUNK,
    ENTRY_BELOW,
    ENTRY_SPANNED,
    DamagedRecord,
    decoded_advisory,
    numbered_entries,
)
from imagevet.vuln.matcher import SEVERITY_ORDER, Hit, Judged, describe_range
from imagevet.vuln.osv import Advisory, Affected
from imagevet.vuln.stored import EVENT, HIT_FIELDS, RANGE, WITHDRAWN

# Every span of an installed name whose version it holds, and every span or usual-shape entry (the one bound
# in its own row, entries.ENTRY_BELOW) of such a name that is not what the importer writes (``sound`` 0):
# an end that is no version key (keys start at U+0100), an empty interval, a span whose entry or advisory
# is missing or another. A damaged row would be a silent "not affected" unless the scan sees it and stops.
_ADVISORY = "a.row, a.id, a.modified, a.withdrawn, a.summary, a.aliases, a.severity, a.score"
_SPANS = f"""
WITH installed(name, key) AS (VALUES {{pairs}})
SELECT {_ADVISORY}, s.entry, s.package, s.severity, i.key, s.what, s.fix, s.matched, {{sound}} AS sound
FROM installed i CROSS JOIN spans s
LEFT JOIN affected f ON f.id = s.entry LEFT JOIN advisories a ON a.row = s.advisory
WHERE s.ecosystem = ? AND s.package = i.name
  AND (NOT {{sound}} OR (s.lo <= i.key AND (s.hi IS NULL OR i.key < s.hi)))
""".replace(
    "{sound}",
    "(typeof(s.lo) = 'text' AND typeof(s.hi) IN ('text', 'null') AND typeof(s.what) = 'integer' "
    "AND typeof(s.matched) = 'text' AND typeof(s.entry) = 'integer' "
    "AND (s.lo = '' OR s.lo >= char(256)) AND (s.hi IS NULL OR (s.hi >= char(256) AND s.hi > s.lo)) "
    f"AND a.row IS NOT NULL AND f.id IS NOT NULL AND f.spanned = {ENTRY_SPANNED} "
    "AND f.package = s.package AND f.ecosystem = s.ecosystem AND f.advisory = s.advisory)",
)
# An entry whose bound is a version key the installed key is not below is no hit, whatever else its row
# holds: it is left out from the index alone (db.INDEXES). Every other entry of the name comes back as its
# hit's text (stored.encode_hit), in the order findings are merged in: a hit, or a damaged row. The index
# holds the text, so neither the entry's row nor its advisory's is read (the join and the advisory's eight
# columns were a quarter of a scan of 1,000 packages). The text is checked in _below_hits, not in SQL: a
# `type(x) is str` there costs a fifth of a `typeof(x) = 'text'` here (docs/benchmarks.md). The installed
# pair comes back as its position in the chunk (i.n), one integer where the name and key were two texts.
_BOUND = "(typeof(f.below) = 'text' AND f.below >= char(256))"
_BELOW = f"""
WITH installed(name, key, n) AS (VALUES {{pairs}})
SELECT i.n, f.id, f.hit, {_BOUND}
FROM installed i CROSS JOIN affected f
WHERE f.ecosystem = ? AND f.package = i.name AND f.spanned = {ENTRY_BELOW}
  AND NOT ({_BOUND} AND i.key >= f.below)
ORDER BY f.package, f.id, i.key
"""
# An entry said to have spans that has none: the importer gives every such entry at least one.
_SPANLESS = f"""
SELECT f.id FROM affected f
WHERE f.ecosystem = ? AND f.package IN ({{marks}}) AND f.spanned = {ENTRY_SPANNED} AND NOT EXISTS (
    SELECT 1 FROM spans s WHERE s.ecosystem = f.ecosystem AND s.package = f.package AND s.entry = f.id
) LIMIT 1
"""


# The explanation of the usual shape's findings, as matcher.describe_range words it: this, then the fix.
_USUAL_MATCHED = describe_range((("introduced", "0"), ("fixed", "")))
_LAST_FIELD = HIT_FIELDS - 1  # the summary, last, is split no further: it may hold a separator
_SEVERITIES = frozenset(SEVERITY_ORDER)
_new = tuple.__new__  # a named tuple made without its Python-level __new__: a third of the cost


def ranged_lookup(
    connection: sqlite3.Connection,
    ecosystems: tuple[str, ...],
    keyed: Iterable[tuple[str, str]],
    whole: Iterable[str],
) -> list[Hit | Judged]:
    """The hits of the (name, key) pairs ``keyed``, and, for the matcher to judge, the entries without
    spans of those names and every entry of the names ``whole``: in the order findings are merged in (per
    ecosystem, by name, then entry). DamagedRecord for a row imagevet never writes."""
    pairs = sorted(set(keyed))
    names = sorted({name for name, _ in pairs})
    whole_names = sorted(set(whole))
    advisories: dict[int, Advisory] = {}
    merged: list[Hit | Judged] = []
    for ecosystem in ecosystems:
        hits: list[Hit] = []
        judged: list[Judged] = []
        found: dict[int, tuple[Advisory, Affected, dict[str, tuple[int, str | None, str]]]] = {}
        shared: dict[tuple[str, str | None], Affected] = {}
        for start in range(0, len(pairs), CHUNK):
            chunk = pairs[start : start + CHUNK]
            values = (*[value for pair in chunk for value in pair], ecosystem)
            marks = ",".join(["(?, ?)"] * len(chunk))
            numbered = (*[v for n, (name, key) in enumerate(chunk) for v in (name, key, n)], ecosystem)
            below = connection.execute(_BELOW.format(pairs=",".join(["(?, ?, ?)"] * len(chunk))), numbered)
            hits.extend(_below_hits(below, chunk, ecosystem))
            for row in connection.execute(_SPANS.format(pairs=marks), values):
                try:
                    _add_hit(found, row, ecosystem, advisories, shared)
                except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
                    why = f"affected entry {row[8]!r} is damaged ({type(exc).__name__})"
                    raise DamagedRecord(why) from exc
        for start in range(0, len(names), CHUNK):
            asked = names[start : start + CHUNK]
            spanless = connection.execute(
                _SPANLESS.format(marks=",".join("?" * len(asked))), (ecosystem, *asked)
            )
            if (entry := spanless.fetchone()) is not None:
                raise DamagedRecord(f"affected entry {entry[0]!r} is damaged (its spans are missing)")
        hits.extend(_span_hits(found, ecosystem))
        for unspanned, asked in ((True, names), (False, whole_names)):
            for number, advisory, affected in numbered_entries(
                connection, ecosystem, asked, advisories, unspanned
            ):
                judged.append(Judged(affected.package, number, advisory, affected))
        hits.sort()  # runs already in order (one per query and chunk): merged, not sorted again
        if judged:
            judged.sort()
            merged.extend(heapq.merge(hits, judged, key=_merge_order))
        else:
            merged.extend(hits)
    return merged


def _merge_order(item: Hit | Judged) -> tuple[str, int]:
    return item[0], item[1]


def _below_hits(
    rows: Iterable[tuple[Any, ...]], chunk: list[tuple[str, str]], ecosystem: str
) -> Iterator[Hit]:
    """The hits of _BELOW's rows for the (name, key) pairs ``chunk``; a withdrawn advisory's are none.
    DamagedRecord for a row imagevet never writes: no hit text, or one encode_hit cannot have written."""
    for position, number, hit, bounded in rows:
        try:
            advisory, aliases, severity, score, withdrawn, fix, summary = hit.split(RANGE, _LAST_FIELD)
            if not (
                bounded
                and severity in _SEVERITIES
                and (not withdrawn or withdrawn == WITHDRAWN)
                and advisory
                and (not aliases or aliases[0] == EVENT)
                and fix
                and EVENT not in fix
            ):
                raise ValueError("a field of the hit holds something else")
            rated = float(score) if score else None
        except (AttributeError, TypeError, ValueError) as exc:  # not text, too few fields, no score
            why = f"affected entry {number!r} is damaged (its hit holds something else)"
            raise DamagedRecord(why) from exc
        if withdrawn:
            continue
        package, key = chunk[position]
        aliased = tuple(aliases.split(EVENT)[1:])  # stored.decode_texts, inline
        matched = _USUAL_MATCHED + fix
        yield _new(
            Hit, (package, number, key, advisory, aliased, fix, severity, rated, summary, ecosystem, matched)
        )


def _span_hits(
    found: dict[int, tuple[Advisory, Affected, dict[str, tuple[int, str | None, str]]]], ecosystem: str
) -> Iterator[Hit]:
    for number, (advisory, affected, by_key) in found.items():
        if advisory.withdrawn:
            continue
        severity = advisory.severity
        if severity == "unknown" and affected.severity:
            severity = affected.severity
        for key, (_, fix, matched) in by_key.items():
            yield Hit(
                affected.package,
                number,
                key,
                advisory.id,
                advisory.aliases,
                fix,
                severity,
                advisory.score,
                advisory.summary,
                ecosystem,
                matched,
            )


def _add_hit(
    found: dict[int, tuple[Advisory, Affected, dict[str, tuple[int, str | None, str]]]],
    row: tuple[Any, ...],
    ecosystem: str,
    advisories: dict[int, Advisory],
    shared: dict[tuple[str, str | None], Affected],
) -> None:
    """Record one span holding an installed version: per version, the smallest ``what`` (ranges, then
    listed versions) decides the fix and the explanation, as the matcher's loop does."""
    number, package, severity, key, what, fix, matched, sound = row[8:16]
    if not sound:
        raise TypeError("a span column holds something else")
    if not isinstance(package, str) or not isinstance(key, str) or not isinstance(what, int):
        raise TypeError("a span column holds something else")
    if fix is not None and not isinstance(fix, str):
        raise TypeError("a span column holds something else")
    if not isinstance(matched, str):
        raise TypeError("a span column holds something else")
    if severity is not None and severity not in SEVERITY_ORDER:
        raise ValueError("a severity imagevet never writes")
    held = found.get(number)
    if held is None:
        affected = shared.get((package, severity))
        if affected is None:  # what findings take from an entry: one object serves all of a package's
            affected = shared[package, severity] = Affected(ecosystem, package, (), (), severity, None, "deb")
        held = found[number] = (decoded_advisory(row, advisories), affected, {})
    hits = held[2]
    if key not in hits or what < hits[key][0]:
        hits[key] = (what, fix, matched)
