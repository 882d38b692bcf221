"""Release lifecycle checks: LTS, still supported, and enough support left.

A release the catalog lists is judged by its catalog record (dates, with their sources). A release it
does not list is judged by its vendor's rule (``catalog/data/rules.yaml``) where the rule decides: an
Ubuntu YY.10 release is not LTS, no Fedora release is, an Ubuntu interim release ends nine months after
the month in its version. Where the rule gives only a window around the end of support, a check decides
only outside it; inside it, and for a distribution without a rule, the outcome is ``error`` (fail
closed: never a pass on a guess).
"""

from __future__ import annotations

import datetime as dt

from imagevet.catalog.lifecycle import find_release, judge_unlisted
from imagevet.catalog.loader import bundled_catalog
from imagevet.catalog.model import Release
from imagevet.catalog.rules import Unlisted
from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
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


def os_supported(facts: Facts, options: CheckOptions) -> Outcome:
    release = _dated(facts, options)
    if isinstance(release, Outcome):
        return release
    if isinstance(release, Unlisted):
        return _supported_by_rule(release, options.as_of)
    end = release.eol
    assert end is not None
    if options.as_of <= end:
        detail = f"{release.name} receives security updates until {end.isoformat()}"
        return Outcome(Status.PASS, (Evidence(detail), _source(release)))
    evidence = [Evidence(f"{release.name} stopped receiving security updates on {end.isoformat()}")]
    if release.extended_eol and options.as_of <= release.extended_eol:
        evidence.append(Evidence(f"{release.extended_kind} lasts until {release.extended_eol.isoformat()}"))
    evidence.append(_source(release))
    return Outcome(Status.FAIL, tuple(evidence))


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
    remaining = (release.eol - options.as_of).days / DAYS_PER_YEAR
    ok = remaining >= options.lifecycle_years
    detail = (
        f"{release.name}: {max(remaining, 0):.1f} years of security support left "
        f"(until {release.eol.isoformat()}); required {options.lifecycle_years:g}"
    )
    return Outcome(Status.PASS if ok else Status.FAIL, (Evidence(detail), _source(release)))
