"""Whether the advisory database can decide for an image: it must hold the image's ecosystem, and be fresh.

A vulnerability gate that matches against a database without the image's ecosystem, or against one that
has not been refreshed for weeks, reports "0 findings" for the wrong reason. Grype refuses to scan with a
database older than five days; imagevet does the same per ecosystem (``Debian:12``, ``AlmaLinux:9`` ...):
the database records, for each ecosystem, how many advisories it holds, when they were imported and from
where, and whether they came from a whole-ecosystem archive (OSV's ``all.zip``) or from individual records
(which may be a partial selection, and is said so in every report). The judgement is pure: the clock and the
thresholds are inputs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the matcher is imported by the scan, not by every run that judges coverage
    from imagevet.vuln.matcher import Lookup

DEFAULT_MAX_AGE_DAYS = 5.0
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
FIX = "run 'imagevet db update' (or 'imagevet db import' of OSV's all.zip for the ecosystem)"
HELD_SHOWN = 8


def fix_for(ecosystem: str) -> str:
    """The command that fetches an ecosystem's OSV archive (``Debian:12`` is in the ``Debian`` archive)."""
    family = ecosystem.split(":", 1)[0]
    shown = f"'{family}'" if " " in family else family
    return f"run 'imagevet db update --ecosystem {shown}' (or 'imagevet db import' of OSV's {family}/all.zip)"


@dataclass(frozen=True)
class EcosystemCoverage:
    """What the database holds for one OSV ecosystem (a row of its ``coverage`` table)."""

    ecosystem: str
    records: int
    imported: str  # when records of this ecosystem were last imported (UTC, TIME_FORMAT)
    source: str
    archive_imported: str | None  # when a whole-ecosystem archive was last imported; None: never
    archive_source: str | None

    @property
    def complete(self) -> bool:
        return self.archive_imported is not None


@dataclass(frozen=True)
class CoveragePolicy:
    """How fresh the data must be (``--max-db-age``) and whether stale data is accepted with a warning."""

    now: dt.datetime
    max_age_days: float = DEFAULT_MAX_AGE_DAYS
    allow_stale: bool = False


@dataclass(frozen=True)
class Verdict:
    """The database's fitness for one image: ``problem`` is why it cannot decide (empty when it can)."""

    ecosystem: str
    record: EcosystemCoverage | None
    age_days: float | None
    problem: str
    warnings: tuple[str, ...]

    @property
    def covered(self) -> bool:
        return not self.problem


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def judge(
    needed: tuple[str, ...], coverage: Mapping[str, EcosystemCoverage], policy: CoveragePolicy, where: str
) -> Verdict:
    """Can the database at ``where`` decide for an image whose advisories live in ``needed``?

    The first ecosystem is the one the image's own vendor publishes (``Ubuntu:24.04:LTS``); further ones
    (``Ubuntu:Pro:24.04:LTS``) add to it and are not required.
    """
    ecosystem = needed[0]
    record = coverage.get(ecosystem)
    fix = fix_for(ecosystem)
    if record is None or record.records == 0:
        names = sorted(coverage)
        held = ", ".join(names[:HELD_SHOWN]) + (
            f" and {len(names) - HELD_SHOWN} more" if len(names) > HELD_SHOWN else ""
        )
        problem = (
            f"the advisory database {where} has no records for {ecosystem} (it holds: {held or 'nothing'})"
        )
        return Verdict(ecosystem, record, None, f"{problem}; {fix}", ())
    warnings: list[str] = []
    stamp = record.archive_imported if record.complete else record.imported
    if not record.complete:
        warnings.append(
            f"advisories for {ecosystem} were imported as individual records ({record.source}), not as a "
            "whole-ecosystem archive: coverage may be partial"
        )
    moment = parse_time(stamp)
    if moment is None:
        problem = f"the advisory database {where} records no valid import time for {ecosystem}; {fix}"
        return Verdict(ecosystem, record, None, problem, tuple(warnings))
    age = (policy.now - moment).total_seconds() / 86400
    if age < -1:
        problem = (
            f"the advisory database {where} says {ecosystem} was imported in the future ({stamp}); {FIX}"
        )
        return Verdict(ecosystem, record, age, problem, tuple(warnings))
    age = max(age, 0.0)
    if age > policy.max_age_days:
        stale = (
            f"advisories for {ecosystem} in {where} are {age:.1f} days old (imported {stamp}), older than "
            f"--max-db-age {policy.max_age_days:g} days"
        )
        if not policy.allow_stale:
            problem = f"{stale}; {fix}, or accept it with --allow-stale-db"
            return Verdict(ecosystem, record, age, problem, tuple(warnings))
        warnings.append(f"{stale}; accepted with --allow-stale-db")
    return Verdict(ecosystem, record, age, "", tuple(warnings))


def describe(verdict: Verdict) -> str:
    """One line of evidence: which ecosystem the image needs and what the database holds for it."""
    record = verdict.record
    if record is None or verdict.age_days is None:
        return f"needs advisories for {verdict.ecosystem}"
    source = record.archive_source if record.complete else record.source
    return coverage_line(verdict.ecosystem, record.records, record.complete, source, verdict.age_days)


def coverage_line(ecosystem: str, records: int, complete: bool, source: str | None, age_days: float) -> str:
    """The coverage sentence, for the audit's evidence and the vuln table alike."""
    kind = "whole-ecosystem archive" if complete else "individual records"
    return (
        f"needs advisories for {ecosystem}: {records} in the database, {kind} from {source}, "
        f"{age_days:.1f} days old"
    )


@dataclass(frozen=True)
class Advisories:
    """What an audit or scan matches against: the lookup, what the database covers, and the policy.

    ``lookup`` is None when there is no database; ``missing`` then says where it was looked for and how to
    get one, and every check that needs advisories is ``error`` with that reason.
    """

    lookup: Lookup | None
    coverage: Mapping[str, EcosystemCoverage]
    policy: CoveragePolicy
    where: str
    missing: str = ""

    @staticmethod
    def of_database(database: Lookup, policy: CoveragePolicy) -> Advisories:
        """Advisories over an opened database (vuln.db.AdvisoryDatabase: a lookup with ``coverage`` and
        ``path``); a bare lookup without coverage covers nothing."""
        coverage: Mapping[str, EcosystemCoverage] = getattr(database, "coverage", {})
        return Advisories(database, coverage, policy, str(getattr(database, "path", "(lookup)")))

    def verdict(self, needed: tuple[str, ...]) -> Verdict:
        if self.lookup is None:
            return Verdict(needed[0], None, None, self.missing or f"no advisory database; {FIX}", ())
        return judge(needed, self.coverage, self.policy, self.where)
