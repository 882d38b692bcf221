"""Reading affected entries back from the advisory database (db.py's ``affected`` and ``advisories``), for
the plain lookup and ranged.py: the rows in the order findings are merged in, decoded once per advisory,
and any row imagevet's importer never writes refused as DamagedRecord (a scan stops rather than skip it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from imagevet.vuln.matcher import SEVERITY_ORDER
from imagevet.vuln.osv import Advisory, Affected
from imagevet.vuln.stored import decode_ranges, decode_texts

# How an affected entry is matched (its ``spanned``): by the matcher from its ranges (a version dpkg refuses,
# or a scheme without spans), through its rows in ``spans``, or as every version below its ``below`` key
# (the usual Debian shape, ``introduced 0, fixed F``, kept in its own row: no span row to write or read).
ENTRY_JUDGED, ENTRY_SPANNED, ENTRY_BELOW = 0, 1, 2
CHUNK = 500  # names per lookup query (SQLite allows 32,766 parameters; 500 keeps each statement small)


def numbered_entries(
    connection: sqlite3.Connection,
    ecosystem: str,
    names: list[str],
    advisories: dict[int, Advisory],
    unspanned_only: bool = False,
) -> Iterator[tuple[int, Advisory, Affected]]:
    """(entry id, advisory, entry) for these package names of one ecosystem, ordered by package name then
    entry (the order findings are merged in); with ``unspanned_only`` only the entries without spans
    (ranged.py finds the others). One query per chunk of ``CHUNK`` names."""
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = connection.execute(
            "SELECT a.row, a.id, a.modified, a.withdrawn, a.summary, a.aliases, a.severity, a.score, "
            "f.package, f.ranges, f.ordered, f.sorted_for, f.versions, f.severity, f.id "
            "FROM affected f LEFT JOIN advisories a ON a.row = f.advisory "
            f"WHERE f.ecosystem = ? AND f.package IN ({marks})"
            # any kind but the two ranged.py reads (a damaged one too) is judged here: never lost
            + (f" AND f.spanned NOT IN ({ENTRY_SPANNED}, {ENTRY_BELOW})" if unspanned_only else "")
            + " ORDER BY f.package, f.id",
            (ecosystem, *chunk),
        )
        for row in rows:
            try:
                affected, advisory = _decoded(row, ecosystem, advisories)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
                # A row our importer never writes (a damaged or hand-edited file): the scan cannot
                # know what that advisory says, so it stops instead of skipping it.
                raise DamagedRecord(f"advisory row {row[0]!r} is damaged ({type(exc).__name__})") from exc
            yield row[14], advisory, affected


class DamagedRecord(ValueError):
    """A row of the ready form that cannot be decoded; AdvisoryDatabase names the file."""


def _decoded(
    row: tuple[Any, ...], ecosystem: str, advisories: dict[int, Advisory]
) -> tuple[Affected, Advisory]:
    ordered = row[10]
    if not isinstance(row[8], str) or not isinstance(row[11], str):
        raise TypeError("a text column holds something else")
    if row[13] is not None and row[13] not in SEVERITY_ORDER:
        raise ValueError("a severity imagevet never writes")
    affected = Affected(
        ecosystem,
        row[8],
        decode_ranges(row[9]),
        decode_texts(row[12]),
        row[13],
        None if ordered is None else decode_ranges(ordered),
        row[11],
    )
    if affected.ordered is not None and len(affected.ordered) != len(affected.ranges):
        raise ValueError("the sorted ranges do not match the ranges")
    return affected, decoded_advisory(row, advisories)


def decoded_advisory(row: tuple[Any, ...], advisories: dict[int, Advisory]) -> Advisory:
    """The advisory of a row starting with the columns row, id, modified, withdrawn, summary, aliases,
    severity and score of ``advisories``; decoded once per row number (``advisories`` keeps them)."""
    advisory = advisories.get(row[0])
    if advisory is None:
        if row[0] is None:  # an entry whose advisory is gone: the importer removes such entries
            raise KeyError("an entry's advisory is missing")
        if row[6] not in SEVERITY_ORDER:
            raise ValueError("a severity imagevet never writes")
        # Written out rather than as all(...) over the columns: this runs once per advisory found.
        if (
            not isinstance(row[1], str)
            or not isinstance(row[4], str)
            or (row[2] is not None and not isinstance(row[2], str))
            or (row[3] is not None and not isinstance(row[3], str))
        ):
            raise TypeError("an advisory's text column holds something else")
        if row[7] is not None and not isinstance(row[7], (int, float)):  # SQLite gives no bool
            raise TypeError("an advisory's score is not a number")
        advisory = Advisory(row[1], row[2] or "", row[3], row[4], decode_texts(row[5]), row[6], row[7], ())
        advisories[row[0]] = advisory
    return advisory
