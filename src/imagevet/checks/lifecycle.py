"""Release lifecycle checks: LTS, still supported, and enough support left."""

from __future__ import annotations

from imagevet.catalog.lifecycle import Release, find_release
from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.model import Evidence, Outcome, Status, Unknown

DAYS_PER_YEAR = 365.25


def release_or_outcome(facts: Facts) -> Release | Outcome:
    os = facts.os_release
    if isinstance(os, Unknown):
        return Outcome.of(Status.ERROR, f"the OS release is unknown: {os.reason}")
    release = find_release(os)
    if release is None:
        label = os.pretty_name or f"{os.id} {os.version_id}"
        return Outcome.of(
            Status.ERROR,
            f"{label} is not in imagevet's lifecycle table",
        )
    return release


def _source(release: Release) -> Evidence:
    return Evidence(f"lifecycle data: {release.source}")


def os_lts(facts: Facts, options: CheckOptions) -> Outcome:
    release = release_or_outcome(facts)
    if isinstance(release, Outcome):
        return release
    kind = "a long-term-support release" if release.lts else "not a long-term-support release"
    return Outcome(
        Status.PASS if release.lts else Status.FAIL,
        (Evidence(f"{release.label} is {kind}"), _source(release)),
    )


def os_supported(facts: Facts, options: CheckOptions) -> Outcome:
    release = release_or_outcome(facts)
    if isinstance(release, Outcome):
        return release
    end = release.security_support_end
    if options.as_of <= end:
        detail = f"{release.label} receives security updates until {end.isoformat()}"
        return Outcome(Status.PASS, (Evidence(detail), _source(release)))
    detail = f"{release.label} stopped receiving security updates on {end.isoformat()}"
    evidence = [Evidence(detail)]
    if release.extended_support_end and options.as_of <= release.extended_support_end:
        evidence.append(
            Evidence(
                f"extended support ({release.extended_support}) lasts until {release.extended_support_end}"
            )
        )
    evidence.append(_source(release))
    return Outcome(Status.FAIL, tuple(evidence))


def os_support_window(facts: Facts, options: CheckOptions) -> Outcome:
    release = release_or_outcome(facts)
    if isinstance(release, Outcome):
        return release
    remaining = (release.security_support_end - options.as_of).days / DAYS_PER_YEAR
    ok = remaining >= options.lifecycle_years
    detail = (
        f"{release.label}: {max(remaining, 0):.1f} years of security support left "
        f"(until {release.security_support_end.isoformat()}); required {options.lifecycle_years:g}"
    )
    return Outcome(Status.PASS if ok else Status.FAIL, (Evidence(detail), _source(release)))
