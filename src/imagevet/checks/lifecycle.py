"""Release lifecycle checks: LTS, still supported, and enough support left.

A release the catalog lists is judged by its catalog record (dates, with their sources). A release it
does not list is judged by its vendor's rule (``catalog/data/rules.yaml``) where the rule decides: an
Ubuntu YY.10 release is not LTS, no Fedora release is, an Ubuntu interim release ends nine months after
the month in its version. Where the rule gives only a window around the end of support, a check decides
only outside it; inside it, and for a distribution without a rule, the outcome is ``error`` (fail
closed: never a pass on a guess).

Free tiers always count. A paid tier (Ubuntu Pro ESM or Legacy, RHEL EUS, SUSE LTSS) counts only when the
image has it attached (facts/support.py), and only while its contract has not expired; the evidence
names the tier, its end and the file it was detected from. When the free support is not enough and a
paid tier's state cannot be read, the outcome is ``error`` rather than ``fail``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from imagevet.catalog.lifecycle import find_release, judge_unlisted
from imagevet.catalog.loader import bundled_catalog
from imagevet.catalog.model import Release, SupportTier
from imagevet.catalog.rules import Unlisted
from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.facts.support import ATTACHED, UNDECIDED
from imagevet.model import Evidence, Outcome, Status, Unknown

DAYS_PER_YEAR = 365.25
NO_DATE = "its vendor's rule gives no date for it (its version does not name its release date)"


def _lookup(facts: Facts, options: CheckOptions) -> Release | Unlisted | Outcome:
    """The image's catalog release, else its vendor rule's judgement, else the shared error outcome."""
    os = facts.os_release
    if isinstance(os, Unknown):
        return Outcome.of(Status.ERROR, f"the OS release is unknown: {os.reason}")
    catalog = options.catalog or bundled_catalog()
    release = find_release(os, catalog)
    if release is not None:
        return release
    unlisted = judge_unlisted(os, catalog)
    if unlisted is None:
        label = os.pretty_name or f"{os.id} {os.version_id}"
        return Outcome.of(
            Status.ERROR,
            f"{label} is not in imagevet's release catalog, and imagevet knows no lifecycle rule for its "
            "distribution",
        )
    return unlisted


def _source(release: Release) -> Evidence:
    return Evidence(f"lifecycle data: {'; '.join(release.citations())}")


def _by_rule(unlisted: Unlisted, status: Status, detail: str) -> Outcome:
    """An outcome decided by a vendor rule: what was decided, then the rule and where it was read."""
    lead = Evidence(f"{unlisted.label} is not in imagevet's release catalog; {detail}")
    return Outcome(status, (lead, Evidence(unlisted.rule.evidence())))


def _undecided(unlisted: Unlisted, detail: str) -> Outcome:
    return _by_rule(unlisted, Status.ERROR, f"{detail}; add the release to the catalog to decide")


def _dated(facts: Facts, options: CheckOptions) -> Release | Unlisted | Outcome:
    """Like _lookup, but also an error when a catalog release's support end is unknown."""
    release = _lookup(facts, options)
    if isinstance(release, Release) and release.eol is None:
        return Outcome.of(Status.ERROR, f"{release.name}: the end of its security support is not known")
    return release


def os_lts(facts: Facts, options: CheckOptions) -> Outcome:
    release = _lookup(facts, options)
    if isinstance(release, Outcome):
        return release
    if isinstance(release, Unlisted):
        future = _unreleased(release, options.as_of)  # a release that cannot exist yet passes nothing
        if future is not None:
            return future
        if release.lts is None:
            return _undecided(release, release.problem or "its vendor's rule cannot tell if it is LTS")
        kind = "a long-term-support release" if release.lts else "not a long-term-support release"
        status = Status.PASS if release.lts else Status.FAIL
        return _by_rule(release, status, f"by its vendor's rule it is {kind}")
    kind = "a long-term-support release" if release.lts else "not a long-term-support release"
    return Outcome(
        Status.PASS if release.lts else Status.FAIL,
        (Evidence(f"{release.name} is {kind}"), _source(release)),
    )


# VARIANT_ID words that mark an image as long-term-support or security-hardened, beside the values the
# catalog lists for the release (docs/checks.md, os-variant). VARIANT_ID is matched word by word, split
# at "-", "_" and ".": "cis-level1" and "lts_hardened" match, "securitylab" does not.
VARIANT_TOKENS = ("lts", "hardened", "fips", "cis", "stig", "security")
_WORDS = re.compile(r"[-_.]")


def _marks(variant_id: str, release_values: tuple[str, ...]) -> str | None:
    """Why ``variant_id`` marks the image as LTS or hardened, or None."""
    wanted = variant_id.lower()
    if wanted in (v.lower() for v in release_values):
        return "one of the values its vendor sets for this release"
    words = [w for w in _WORDS.split(wanted) if w]
    token = next((w for w in words if w in VARIANT_TOKENS), None)
    return f"it names {token!r}" if token else None


def os_variant(facts: Facts, options: CheckOptions) -> Outcome:
    """The guide's checklist: /etc/os-release's VARIANT_ID marks the image as LTS or security-hardened."""
    os = facts.os_release
    if isinstance(os, Unknown):
        return Outcome.of(Status.ERROR, f"the OS release is unknown: {os.reason}")
    release = _lookup(facts, options)
    if isinstance(release, Outcome):
        return release
    variant = os.variant_id
    shown = f"VARIANT_ID={variant}" if variant else "no VARIANT_ID"
    where = os.source
    if isinstance(release, Unlisted):
        future = _unreleased(release, options.as_of)
        if future is not None:
            return future
        if release.lts is None:
            return _undecided(release, release.problem or "its vendor's rule cannot tell if it is LTS")
        if not release.lts:
            return _by_rule(
                release,
                Status.FAIL,
                f"by its vendor's rule it is not a long-term-support release ({shown} in {where})",
            )
        why = _marks(variant, ()) if variant else None
        if variant and why is None:
            return _by_rule(
                release,
                Status.FAIL,
                f"{shown} ({where}) does not mark it as LTS or hardened, and "
                "imagevet knows no VARIANT_ID values for it",
            )
        detail = (
            f"{shown} ({where}): {why}"
            if why
            else (f"{shown} in {where}; by its vendor's rule it is a long-term-support release")
        )
        return _by_rule(release, Status.PASS, detail)
    lead = Evidence(f"{release.name}: {shown}", where)
    if not release.lts:
        kind = "an interim (not long-term-support) release"
        return Outcome(Status.FAIL, (lead, Evidence(f"{release.name} is {kind}"), _source(release)))
    if not variant:
        if release.variant_ids:
            values = ", ".join(release.variant_ids)
            detail = (
                f"its vendor's images set VARIANT_ID ({values}); this image sets none: an unknown variant"
            )
            return Outcome(Status.FAIL, (lead, Evidence(detail), _source(release)))
        note = (
            f"note: {release.name}'s vendor does not set VARIANT_ID; the catalog says it is a "
            "long-term-support release"
        )
        return Outcome(Status.PASS, (lead, Evidence(note), _source(release)))
    why = _marks(variant, release.variant_ids)
    if why is None:
        known = ", ".join(release.variant_ids) or "none"
        detail = (
            f"VARIANT_ID={variant} does not mark it as LTS or security-hardened (the vendor's values: "
            f"{known}; hardening words: {', '.join(VARIANT_TOKENS)})"
        )
        return Outcome(Status.FAIL, (lead, Evidence(detail), _source(release)))
    detail = f"VARIANT_ID={variant} marks a long-term-support or hardened image: {why}"
    return Outcome(Status.PASS, (lead, Evidence(detail), _source(release)))


def _unreleased(unlisted: Unlisted, as_of: dt.date) -> Outcome | None:
    """An error when the version names a release month after the audit date (not a real release)."""
    if unlisted.released is not None and unlisted.released > as_of:
        month = unlisted.released.strftime("%Y-%m")
        return _undecided(unlisted, f"its version names a release month ({month}) after {as_of.isoformat()}")
    return None


def _supported_by_rule(unlisted: Unlisted, as_of: dt.date) -> Outcome:
    future = _unreleased(unlisted, as_of)
    if future is not None:
        return future
    if unlisted.latest_end is None or unlisted.earliest_end is None or unlisted.nominal_end is None:
        return _undecided(unlisted, unlisted.problem or NO_DATE)
    about = unlisted.nominal_end.strftime("%Y-%m")
    if as_of > unlisted.latest_end:
        latest = unlisted.latest_end.isoformat()
        detail = f"by its vendor's rule its security support ended about {about}, by {latest} at the latest"
        return _by_rule(unlisted, Status.FAIL, detail)
    if as_of <= unlisted.earliest_end:
        earliest = unlisted.earliest_end.isoformat()
        detail = f"by its vendor's rule it is supported until about {about}, at least until {earliest}"
        return _by_rule(unlisted, Status.PASS, detail)
    return _undecided(unlisted, f"by its vendor's rule its security support ends about {about}")


@dataclass(frozen=True)
class _Counted:
    """A paid tier the image has attached, counted until ``until`` (its end, or the contract's if earlier)."""

    tier: SupportTier
    until: dt.date
    evidence: Evidence


@dataclass
class _PaidTiers:
    """Paid support tiers sorted by whether the support-window check may count them."""

    counted: list[_Counted] = field(default_factory=list)
    not_counted: list[Evidence] = field(default_factory=list)  # tiers that would help, and why they do not
    undecided: list[_Counted] = field(default_factory=list)  # tiers whose state could not be read

    def best(self, as_of: dt.date) -> _Counted | None:
        live = [c for c in self.counted if c.until >= as_of]
        return max(live, key=lambda c: c.until) if live else None


def _paid_tiers(release: Release, facts: Facts, as_of: dt.date) -> _PaidTiers:
    """Each paid tier of ``release`` still running on ``as_of``: counted, not counted (why), or undecided."""
    result = _PaidTiers()
    for tier in release.paid_tiers:
        if tier.ends is None:
            result.not_counted.append(
                Evidence(f"{tier.name}: its end is not published, so it is not counted")
            )
            continue
        if tier.ends < as_of:
            continue
        ends = tier.ends.isoformat()
        found = facts.support.of(tier.tier)
        if found is None:
            result.not_counted.append(
                Evidence(
                    f"{tier.name} would cover it until {ends}, but imagevet cannot detect it in an image"
                )
            )
            continue
        if found.state == ATTACHED:
            if found.expires is not None and found.expires < as_of:
                detail = (
                    f"{tier.name} would cover it until {ends}, but the contract expired on "
                    f"{found.expires.isoformat()}"
                )
                result.not_counted.append(Evidence(detail, found.path))
                continue
            until = min(tier.ends, found.expires) if found.expires is not None else tier.ends
            capped = (
                f" (the contract ends {until.isoformat()}, before the tier's {ends})"
                if until < tier.ends
                else ""
            )
            covers = f"{tier.name} ({tier.tier}, {tier.cost}) covers it until {until.isoformat()}{capped}"
            detail = f"{covers}: {found.reason}"
            result.counted.append(_Counted(tier, until, Evidence(detail, found.path)))
        elif found.state == UNDECIDED:
            detail = f"{tier.name} would cover it until {ends}, but {found.reason}"
            result.undecided.append(_Counted(tier, tier.ends, Evidence(detail, found.path)))
        else:
            detail = f"{tier.name} would cover it until {ends}, but {found.reason}"
            result.not_counted.append(Evidence(detail, found.path))
    return result


def os_supported(facts: Facts, options: CheckOptions) -> Outcome:
    release = _dated(facts, options)
    if isinstance(release, Outcome):
        return release
    if isinstance(release, Unlisted):
        return _supported_by_rule(release, options.as_of)
    end = release.eol
    assert end is not None
    if options.as_of <= end:
        detail = f"{release.name} receives free security updates until {end.isoformat()}"
        return Outcome(Status.PASS, (Evidence(detail), _source(release)))
    lead = Evidence(f"{release.name}'s free security support ended on {end.isoformat()}")
    paid = _paid_tiers(release, facts, options.as_of)
    best = paid.best(options.as_of)
    if best is not None:
        return Outcome(Status.PASS, (lead, best.evidence, _source(release)))
    if paid.undecided:
        evidence = (lead, *(u.evidence for u in paid.undecided), *paid.not_counted, _source(release))
        return Outcome(Status.ERROR, evidence)
    return Outcome(Status.FAIL, (lead, *paid.not_counted, _source(release)))


def _window_by_rule(unlisted: Unlisted, options: CheckOptions) -> Outcome:
    required = options.lifecycle_years
    future = _unreleased(unlisted, options.as_of)
    if future is not None:
        return future
    if unlisted.latest_end is not None and unlisted.earliest_end is not None:
        most = (unlisted.latest_end - options.as_of).days / DAYS_PER_YEAR
        least = (unlisted.earliest_end - options.as_of).days / DAYS_PER_YEAR
        wanted = f"required {required:g}"
        if most < required:
            detail = f"by its vendor's rule at most {max(most, 0):.1f} years of support are left; {wanted}"
            return _by_rule(unlisted, Status.FAIL, detail)
        if least >= required:
            detail = f"by its vendor's rule at least {least:.1f} years of support are left; {wanted}"
            return _by_rule(unlisted, Status.PASS, detail)
        span = f"{max(least, 0):.1f} to {most:.1f} years"
        return _undecided(unlisted, f"by its vendor's rule {span} of support are left; {wanted}")
    if unlisted.max_months is not None and unlisted.max_months / 12 < required:
        detail = (
            f"its vendor's rule gives such a release at most {unlisted.max_months} months of security "
            f"support from its release; required {required:g} years"
        )
        return _by_rule(unlisted, Status.FAIL, detail)
    return _undecided(unlisted, unlisted.problem or NO_DATE)


def os_support_window(facts: Facts, options: CheckOptions) -> Outcome:
    release = _dated(facts, options)
    if isinstance(release, Outcome):
        return release
    if isinstance(release, Unlisted):
        return _window_by_rule(release, options)
    assert release.eol is not None
    required = options.lifecycle_years

    def years(until: dt.date) -> float:
        return (until - options.as_of).days / DAYS_PER_YEAR

    free = Evidence(
        f"{release.name}: {max(years(release.eol), 0):.1f} years of free security support left "
        f"(until {release.eol.isoformat()}); required {required:g}"
    )
    if years(release.eol) >= required:
        return Outcome(Status.PASS, (free, _source(release)))
    paid = _paid_tiers(release, facts, options.as_of)
    best = paid.best(options.as_of)
    if best is not None and best.until > release.eol:
        left = Evidence(
            f"with {best.tier.name}: {max(years(best.until), 0):.1f} years left; required {required:g}"
        )
        status = Status.PASS if years(best.until) >= required else Status.FAIL
        if status is Status.FAIL and any(years(u.until) >= required for u in paid.undecided):
            status = Status.ERROR
        return Outcome(
            status, (free, best.evidence, left, *(u.evidence for u in paid.undecided), _source(release))
        )
    if any(years(u.until) >= required for u in paid.undecided):
        evidence = (free, *(u.evidence for u in paid.undecided), *paid.not_counted, _source(release))
        return Outcome(Status.ERROR, evidence)
    return Outcome(Status.FAIL, (free, *paid.not_counted, _source(release)))
