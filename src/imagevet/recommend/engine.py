"""Rank releases for a query: hard gates, then support, cloud fit, compliance and scenario fit.

The order is the project's priority order. Security comes first as gates (an official publisher, free
security support today, a long-term-support release, required FIPS modules); among what passes, support
left against the horizon weighs most, then cloud-native fit, then compliance coverage, then scenario fit.
Everything is explained in reasons and warnings; nothing here prints or reads the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from imagevet.catalog.lifecycle import END_OF_LIFE, EXTENDED_ONLY, UNKNOWN, lifecycle_status
from imagevet.catalog.model import Catalog, Offering, Release, Scenario
from imagevet.errors import ImagevetError

WEIGHTS = {"support": 40.0, "security": 10.0, "cloud": 20.0, "compliance": 15.0, "scenario": 15.0}
SECURITY_POINTS = {"mac": 6.0, "auto_updates": 2.0, "fips": 2.0}
CLOUD_FEATURE_POINTS = {
    "cloud-optimized": (8, "built and tuned by the cloud provider"),
    "imdsv2-default": (5, "instances require IMDSv2 by default"),
    "cloud-agent": (4, "the cloud's management agent is preinstalled"),
    "live-patching": (4, "kernel live patching available"),
    "pro-variant": (2, "a commercial-support variant is offered"),
}
GPU_FEATURE_POINTS = 6
CLOUD_POINTS_MAX = 20
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Query:
    scenario: str
    cloud: str | None
    lifecycle_years: float
    compliance: tuple[str, ...]
    arch: str
    gpu: bool
    as_of: dt.date


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


@dataclass(frozen=True)
class Rejected:
    release: Release
    reasons: tuple[str, ...]


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


def _gates(release: Release, offering: Offering | None, catalog: Catalog, query: Query) -> list[str]:
    reasons = []
    if query.cloud is not None and offering is None:
        reasons.append(f"no official image on {catalog.clouds[query.cloud].name}")
    status = lifecycle_status(release, query.as_of)
    if status.status == UNKNOWN:
        reasons.append("the end of its security support is not published, so support cannot be verified")
    elif status.status == END_OF_LIFE:
        assert release.eol is not None
        reasons.append(f"end of life: security support ended {release.eol.isoformat()}")
    elif status.status == EXTENDED_ONLY:
        assert release.eol is not None and release.extended_eol is not None
        reasons.append(
            f"standard security support ended {release.eol.isoformat()}; only paid "
            f"{release.extended_kind} until {release.extended_eol.isoformat()}"
        )
    if not release.lts:
        reasons.append("not a long-term-support release")
    if query.arch not in release.arches:
        reasons.append(f"no {query.arch} build")
    for need in query.compliance:
        rule = catalog.compliance[need]
        if rule.gate and not _meets(release, offering, rule.any_of):
            reasons.append(f"{rule.title}: not available for this release")
    return reasons


def _meets(release: Release, offering: Offering | None, any_of: tuple[str, ...]) -> bool:
    for item in any_of:
        if item == "fips" and release.fips:
            return True
        if item in ("cis", "stig") and item in release.certifications:
            return True
        if item == "mlps-variant" and offering is not None and "mlps-variant" in offering.features:
            return True
        if item == "supported":
            return True  # gates already require free security support
    return False


def _support(release: Release, query: Query, candidate: Candidate) -> float:
    assert release.eol is not None
    remaining = (release.eol - query.as_of).days / DAYS_PER_YEAR
    horizon = query.lifecycle_years
    share = 1.0 if horizon <= 0 else min(remaining / horizon, 1.0)
    if remaining >= horizon:
        candidate.reasons.append(
            f"security support until {release.eol.isoformat()} ({remaining:.1f} years) covers your "
            f"{horizon:g}-year horizon"
        )
    else:
        candidate.covers_horizon = False
        warning = (
            f"support ends {release.eol.isoformat()}, {horizon - remaining:.1f} years before your "
            f"{horizon:g}-year horizon"
        )
        if release.extended_eol is not None:
            warning += f" (paid {release.extended_kind} until {release.extended_eol.isoformat()})"
        candidate.warnings.append(warning)
    return share * WEIGHTS["support"]


def _cloud_fit(
    release: Release, offering: Offering | None, catalog: Catalog, query: Query, candidate: Candidate
) -> float:
    if query.cloud is None:
        clouds = [c.name for c in catalog.clouds.values() if c.offering(release.release) is not None]
        if clouds:
            candidate.reasons.append(f"official images on {len(clouds)} of {len(catalog.clouds)} clouds")
        return len(clouds) / len(catalog.clouds) * WEIGHTS["cloud"]
    assert offering is not None
    candidate.reasons.append(
        f"official image from {offering.publisher.name} on {catalog.clouds[query.cloud].name}"
    )
    points = 0
    for feature, (value, reason) in CLOUD_FEATURE_POINTS.items():
        if feature in offering.features:
            points += value
            candidate.reasons.append(reason)
    if gpu_wanted(query, catalog.scenarios[query.scenario]) and "gpu-variant" in offering.features:
        points += GPU_FEATURE_POINTS
    if "lookup" in offering.uncertain:
        candidate.warnings.append("image identifiers follow the provider's naming pattern; not verified")
    return min(points, CLOUD_POINTS_MAX) / CLOUD_POINTS_MAX * WEIGHTS["cloud"]


def _compliance(
    release: Release, offering: Offering | None, catalog: Catalog, query: Query, candidate: Candidate
) -> float:
    if not query.compliance:
        return WEIGHTS["compliance"]
    met = 0
    for need in query.compliance:
        rule = catalog.compliance[need]
        if _meets(release, offering, rule.any_of):
            met += 1
            candidate.reasons.append(f"{rule.title}: {rule.reason}")
        else:
            candidate.warnings.append(f"{rule.title}: no {' or '.join(rule.any_of)} for this release")
    return met / len(query.compliance) * WEIGHTS["compliance"]


def _version_at_least(value: str, minimum: str) -> bool:
    def parts(text: str) -> tuple[int, ...]:
        numbers = []
        for piece in text.split(" ")[0].split("."):
            if not piece.isdigit():
                break
            numbers.append(int(piece))
        return tuple(numbers)

    return parts(value) >= parts(minimum) if parts(value) else False


def _scenario_fit(release: Release, scenario: Scenario, candidate: Candidate) -> float:
    best = 0
    for key in (release.release, release.release.rsplit("-", 1)[0], release.distro):
        if key in scenario.prefer:
            points, reason = scenario.prefer[key]
            if points > best:
                best = points
                chosen = reason
    if best:
        candidate.reasons.append(chosen)
    total = best
    for package, (minimum, points, reason) in scenario.packages.items():
        value = release.packages.get(package)
        if value is None:
            continue
        if package == "openjdk":
            versions = value if isinstance(value, tuple) else (value,)
            if any(_version_at_least(v, minimum) for v in versions):
                total += points
                candidate.reasons.append(reason.format(value=minimum))
        elif isinstance(value, str) and _version_at_least(value, minimum):
            total += points
            candidate.reasons.append(reason.format(value=value))
    possible = max((p for p, _ in scenario.prefer.values()), default=0) + sum(
        points for _, points, _ in scenario.packages.values()
    )
    return 0.0 if possible == 0 else min(total / possible, 1.0) * WEIGHTS["scenario"]


def gpu_wanted(query: Query, scenario: Scenario) -> bool:
    return query.gpu or scenario.gpu


def _security(release: Release, candidate: Candidate) -> float:
    """Secure defaults of the release: MAC enforcing, automatic security updates, FIPS modules."""
    points = 0.0
    if release.mac == "selinux-enforcing":
        points += SECURITY_POINTS["mac"]
        candidate.reasons.append("SELinux enforcing by default")
    elif release.mac == "apparmor":
        points += SECURITY_POINTS["mac"]
        candidate.reasons.append("AppArmor enabled by default")
    elif release.mac == "selinux-permissive":
        candidate.warnings.append(
            "SELinux is permissive by default: set it to enforcing (check mac-enforcing)"
        )
    else:
        candidate.warnings.append(
            "no mandatory access control by default: enable SELinux (check mac-enforcing)"
        )
    if release.auto_updates:
        points += SECURITY_POINTS["auto_updates"]
        candidate.reasons.append("automatic security updates on by default")
    else:
        candidate.warnings.append("automatic security updates are off by default (check updates-automatic)")
    if release.fips:
        points += SECURITY_POINTS["fips"]
    return points


def _notes(
    release: Release, offering: Offering | None, query: Query, scenario: Scenario, candidate: Candidate
) -> None:
    if gpu_wanted(query, scenario):
        if offering is not None and "gpu-variant" in offering.features:
            candidate.reasons.append("an NVIDIA GPU driver image is offered")
        elif offering is not None:
            candidate.warnings.append("no GPU driver image on this cloud: install the NVIDIA driver yourself")
    unverified = [f for f in release.uncertain if f not in ("packages",)]
    if unverified:
        candidate.warnings.append(f"not verified from a primary source: {', '.join(unverified)}")


def recommend(catalog: Catalog, query: Query) -> Recommendation:
    validate_query(catalog, query)
    scenario = catalog.scenarios[query.scenario]
    candidates: list[Candidate] = []
    rejected: list[Rejected] = []
    for release in catalog.releases:
        offering = catalog.clouds[query.cloud].offering(release.release) if query.cloud else None
        gate_reasons = _gates(release, offering, catalog, query)
        if gate_reasons:
            rejected.append(Rejected(release, tuple(gate_reasons)))
            continue
        candidate = Candidate(release, offering, 0.0, {})
        clouds = [query.cloud] if query.cloud else list(catalog.clouds)
        for key in clouds:
            found = catalog.clouds[key].offering(release.release)
            if found is not None:
                candidate.offerings[key] = found
        candidate.parts = {
            "support": _support(release, query, candidate),
            "security": _security(release, candidate),
            "cloud": _cloud_fit(release, offering, catalog, query, candidate),
            "compliance": _compliance(release, offering, catalog, query, candidate),
            "scenario": _scenario_fit(release, scenario, candidate),
        }
        _notes(release, offering, query, scenario, candidate)
        candidate.score = round(sum(candidate.parts.values()), 1)
        candidates.append(candidate)
    # Support is the first criterion after the gates: a release whose support ends before the horizon
    # ranks after every release that covers it, whatever its other merits.
    candidates.sort(
        key=lambda c: (
            not c.covers_horizon,
            -c.score,
            -(c.release.eol or dt.date.min).toordinal(),
            c.release.release,
        )
    )
    for rank, candidate in enumerate(candidates, start=1):
        candidate.rank = rank
    return Recommendation(query, scenario, tuple(candidates), tuple(rejected))
