"""Rank official images for a query: hard gates, then support, security, cloud and image fit,
compliance and scenario fit.

The order is the project's priority order. Security comes first as gates (an official publisher, security
support today, a long-term-support release, required FIPS modules); among what passes, support left
against the horizon weighs most, then the cloud's image (its agents and the kind of image the workload
wants: GPU drivers, node images), then compliance coverage, then scenario fit. Paid support tiers count
only when the query allows them. On one cloud each official image is a candidate; cloud-neutral, each
release is. Everything is explained in reasons and warnings; nothing here prints or reads the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from imagevet.catalog.lifecycle import END_OF_LIFE, EXTENDED_ONLY, UNKNOWN, lifecycle_status
from imagevet.catalog.model import Catalog, Offering, Release, Scenario
from imagevet.errors import ImagevetError
from imagevet.recommend import fit
from imagevet.recommend.support import COST_WORDS, Coverage, coverage, fips_met, meets, paid_cover

WEIGHTS = fit.WEIGHTS


@dataclass(frozen=True)
class Query:
    scenario: str
    cloud: str | None
    lifecycle_years: float
    compliance: tuple[str, ...]
    arch: str
    gpu: bool
    as_of: dt.date
    allow_paid_support: bool = False


@dataclass
class Candidate:
    release: Release
    offering: Offering | None
    score: float
    parts: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rank: int = 0
    covers_horizon: bool = True
    offerings: dict[str, Offering] = field(default_factory=dict)  # where to find it, per cloud
    coverage: Coverage | None = None


@dataclass(frozen=True)
class Rejected:
    release: Release
    reasons: tuple[str, ...]
    offering: Offering | None = None


@dataclass(frozen=True)
class Recommendation:
    query: Query
    scenario: Scenario
    candidates: tuple[Candidate, ...]
    rejected: tuple[Rejected, ...]

    def rejected_reasons(self, release_id: str) -> tuple[str, ...]:
        return next((r.reasons for r in self.rejected if r.release.release == release_id), ())


def validate_query(catalog: Catalog, query: Query) -> None:
    """Unknown scenario, cloud or compliance values are usage errors that list the valid choices."""
    if query.scenario not in catalog.scenarios:
        raise ImagevetError(
            f"unknown scenario {query.scenario!r} (choose from: {', '.join(catalog.scenarios)})"
        )
    if query.cloud is not None and query.cloud not in catalog.clouds:
        raise ImagevetError(f"unknown cloud {query.cloud!r} (choose from: {', '.join(catalog.clouds)})")
    unknown = [c for c in query.compliance if c not in catalog.compliance]
    if unknown:
        raise ImagevetError(
            f"unknown compliance value(s) {', '.join(unknown)} (choose from: {', '.join(catalog.compliance)})"
        )
    if query.arch not in ("x86_64", "arm64"):
        raise ImagevetError(f"unknown architecture {query.arch!r} (choose from: x86_64, arm64)")
    if query.lifecycle_years < 0:
        raise ImagevetError("--lifecycle-years must not be negative")


def gpu_wanted(query: Query, scenario: Scenario) -> bool:
    return query.gpu or scenario.gpu


def _release_gates(release: Release, catalog: Catalog, query: Query) -> list[str]:
    reasons = []
    if not release.recommendable:
        reasons.append("known to imagevet but never recommended (no long-term support)")
    status = lifecycle_status(release, query.as_of)
    if status.status == UNKNOWN:
        reasons.append("the end of its security support is not published, so support cannot be verified")
    elif status.status == END_OF_LIFE:
        assert release.eol is not None
        reasons.append(f"end of life: security support ended {release.eol.isoformat()}")
    elif status.status == EXTENDED_ONLY and not query.allow_paid_support:
        assert release.eol is not None and release.extended_eol is not None
        reasons.append(
            f"free security support ended {release.eol.isoformat()}; only paid {release.extended_kind} "
            f"until {release.extended_eol.isoformat()} (count it with --allow-paid-support)"
        )
    if not release.lts and not release.rolling:
        reasons.append("not a long-term-support release")
    if query.arch not in release.arches:
        reasons.append(f"no {query.arch} build")
    return reasons


def _image_gates(release: Release, offering: Offering | None, catalog: Catalog, query: Query) -> list[str]:
    reasons = []
    if offering is not None and offering.arches and query.arch not in offering.arches:
        reasons.append(f"no {query.arch} build of this image")
    for need in query.compliance:
        rule = catalog.compliance[need]
        if rule.gate and not any(meets(m, release, offering, catalog, query.as_of) for m in rule.any_of):
            why = (
                fips_met(release, offering, catalog, query.as_of)[1]
                if "fips" in rule.any_of
                else "not available"
            )
            reasons.append(f"{rule.title}: {why}")
    return reasons


def _support(release: Release, query: Query, candidate: Candidate) -> float:
    horizon = query.lifecycle_years
    found = coverage(release, query.as_of, horizon, query.allow_paid_support)
    candidate.coverage = found
    if found is None:  # only reachable through a date change between gates and here
        candidate.covers_horizon = False
        return 0.0
    if found.until is None:
        candidate.reasons.append(
            "rolling release: supported while kept at its latest version (updates are image-based)"
        )
        return WEIGHTS["support"]
    assert found.years is not None
    label = "security support" if found.tier is None or not found.paid else found.tier.name
    cost = "" if not found.paid or found.tier is None else f", paid: {COST_WORDS[found.tier.cost]}"
    if found.years >= horizon:
        candidate.reasons.append(
            f"{label} until {found.until.isoformat()} ({found.years:.1f} years{cost}) covers your "
            f"{horizon:g}-year horizon"
        )
        if found.paid and found.tier is not None and found.tier.how:
            candidate.reasons.append(f"{found.tier.name}: {found.tier.how}")
    else:
        candidate.covers_horizon = False
        warning = (
            f"{label} ends {found.until.isoformat()}, {horizon - found.years:.1f} years before your "
            f"{horizon:g}-year horizon"
        )
        candidate.warnings.append(warning)
    if not found.paid and not candidate.covers_horizon:
        tier = paid_cover(release, query.as_of, horizon)
        if tier is not None and tier.ends is not None:
            candidate.warnings.append(
                f"paid {tier.name} until {tier.ends.isoformat()} would cover it ({COST_WORDS[tier.cost]}; "
                "count it with --allow-paid-support)"
            )
    share = 1.0 if horizon <= 0 else min(found.years / horizon, 1.0)
    return max(share, 0.0) * WEIGHTS["support"]


def _notes(
    release: Release, offering: Offering | None, query: Query, scenario: Scenario, candidate: Candidate
) -> None:
    if gpu_wanted(query, scenario) and offering is not None:
        if "gpu-driver" in offering.features or offering.variant in ("gpu", "deep-learning"):
            candidate.reasons.append("the NVIDIA GPU driver is preinstalled")
        else:
            candidate.warnings.append("no GPU driver in this image: install the NVIDIA driver yourself")
    unverified = [f for f in release.uncertain if f not in ("packages",)]
    if offering is not None:
        unverified += [f"image {f}" for f in offering.uncertain if f != "lookup"]
    if unverified:
        candidate.warnings.append(f"not verified from a primary source: {', '.join(unverified)}")


def _candidate(
    release: Release, offering: Offering | None, catalog: Catalog, query: Query, scenario: Scenario
) -> Candidate:
    candidate = Candidate(release, offering, 0.0, {})
    for key in [query.cloud] if query.cloud else list(catalog.clouds):
        offered = catalog.clouds[key].offerings_of(release.release)
        if offering is not None:
            candidate.offerings[key] = offering
        elif offered:
            candidate.offerings[key] = max(offered, key=lambda o: fit.image_points(scenario, o)[0])
    images = [offering] if offering is not None else list(candidate.offerings.values())
    candidate.parts = {
        "support": _support(release, query, candidate),
        "security": fit.security(release, catalog, query, candidate),
        "cloud": fit.cloud_fit(release, offering, catalog, query, candidate),
        "image": fit.image_fit(scenario, images, candidate),
        "compliance": fit.compliance(release, offering, catalog, query, candidate),
        "scenario": fit.scenario_fit(release, scenario, candidate),
    }
    _notes(release, offering, query, scenario, candidate)
    candidate.score = round(sum(candidate.parts.values()), 1)
    return candidate


def _paid_unasked(candidate: Candidate, scenario: Scenario) -> bool:
    offering = candidate.offering
    return offering is not None and offering.paid is not None and offering.variant not in scenario.images


def recommend(catalog: Catalog, query: Query) -> Recommendation:
    validate_query(catalog, query)
    scenario = catalog.scenarios[query.scenario]
    candidates: list[Candidate] = []
    rejected: list[Rejected] = []
    for release in catalog.releases:
        reasons = _release_gates(release, catalog, query)
        images: list[Offering | None] = [None]
        if query.cloud is not None:
            images = list(catalog.clouds[query.cloud].offerings_of(release.release))
            if not images:
                reasons.append(f"no official image on {catalog.clouds[query.cloud].name}")
        if reasons:
            rejected.append(Rejected(release, tuple(reasons)))
            continue
        for offering in images:
            image_reasons = _image_gates(release, offering, catalog, query)
            if image_reasons:
                rejected.append(Rejected(release, tuple(image_reasons), offering))
                continue
            candidates.append(_candidate(release, offering, catalog, query, scenario))
    # Support is the first criterion after the gates: a candidate whose support ends before the horizon
    # ranks after every one that covers it, whatever its other merits. Then a paid image ranks after the
    # free ones, unless the workload asks for what it sells (a Pro or FIPS image for high security).
    candidates.sort(
        key=lambda c: (
            not c.covers_horizon,
            _paid_unasked(c, scenario),
            -c.score,
            -(c.release.eol or dt.date.min).toordinal(),
            c.release.release,
            c.offering.image if c.offering is not None else "",
        )
    )
    for rank, candidate in enumerate(candidates, start=1):
        candidate.rank = rank
    return Recommendation(query, scenario, tuple(candidates), tuple(rejected))
