"""Release lifecycle checks: LTS, still supported, and enough support left (from the release catalog)."""

from __future__ import annotations

from imagevet.catalog.lifecycle import find_release
from imagevet.catalog.loader import bundled_catalog
from imagevet.catalog.model import Release
from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.model import Evidence, Outcome, Status, Unknown

DAYS_PER_YEAR = 365.25


def release_or_outcome(facts: Facts, options: CheckOptions) -> Release | Outcome:
    """The image's catalog release, or the error outcome every lifecycle check shares."""
    os = facts.os_release
    if isinstance(os, Unknown):
        return Outcome.of(Status.ERROR, f"the OS release is unknown: {os.reason}")
    release = find_release(os, options.catalog or bundled_catalog())
    if release is None:
        label = os.pretty_name or f"{os.id} {os.version_id}"
        return Outcome.of(Status.ERROR, f"{label} is not in imagevet's release catalog")
    return release


def _source(release: Release) -> Evidence:
    return Evidence(f"lifecycle data: {'; '.join(release.sources)}")


def _dated(facts: Facts, options: CheckOptions) -> Release | Outcome:
    """Like release_or_outcome, but also an error when the release's support end is unknown."""
    release = release_or_outcome(facts, options)
    if isinstance(release, Release) and release.eol is None:
        return Outcome.of(Status.ERROR, f"{release.name}: the end of its security support is not known")
    return release


def os_lts(facts: Facts, options: CheckOptions) -> Outcome:
    release = release_or_outcome(facts, options)
    if isinstance(release, Outcome):
        return release
    kind = "a long-term-support release" if release.lts else "not a long-term-support release"
    return Outcome(
        Status.PASS if release.lts else Status.FAIL,
        (Evidence(f"{release.name} is {kind}"), _source(release)),
    )


def os_supported(facts: Facts, options: CheckOptions) -> Outcome:
    release = _dated(facts, options)
    if isinstance(release, Outcome):
        return release
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


def os_support_window(facts: Facts, options: CheckOptions) -> Outcome:
    release = _dated(facts, options)
    if isinstance(release, Outcome):
        return release
    assert release.eol is not None
    remaining = (release.eol - options.as_of).days / DAYS_PER_YEAR
    ok = remaining >= options.lifecycle_years
    detail = (
        f"{release.name}: {max(remaining, 0):.1f} years of security support left "
        f"(until {release.eol.isoformat()}); required {options.lifecycle_years:g}"
    )
    return Outcome(Status.PASS if ok else Status.FAIL, (Evidence(detail), _source(release)))
