"""The ranking's scores after the gates: security defaults, cloud fit, image fit, compliance, scenario.

Each scorer returns points within its weight and appends its reasons and warnings to the candidate;
all pure functions of the catalog, the query and the candidate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagevet.catalog.model import VARIANTS, Catalog, Offering, Release, Scenario
from imagevet.recommend.support import fips_met, fips_ok, meets

if TYPE_CHECKING:
    from imagevet.recommend.engine import Candidate, Query

WEIGHTS = {
    "support": 35.0,
    "security": 10.0,
    "cloud": 15.0,
    "image": 15.0,
    "compliance": 15.0,
    "scenario": 10.0,
}
SECURITY_POINTS = {"mac": 6.0, "auto_updates": 2.0, "fips": 2.0}
CLOUD_FEATURE_POINTS = {
    "cloud-optimized": (8, "built and tuned by the cloud provider"),
    "imdsv2-default": (5, "instances require IMDSv2 by default"),
    "cloud-agent": (4, "the cloud's management agent is preinstalled"),
    "live-patching": (4, "kernel live patching available"),
}
CLOUD_POINTS_MAX = 20


def security(release: Release, catalog: Catalog, query: Query, candidate: Candidate) -> float:
    """Secure defaults of the release: MAC enforcing, automatic security updates, valid FIPS modules."""
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
    if fips_ok(release, catalog, query.as_of)[0]:
        points += SECURITY_POINTS["fips"]
    return points


def cloud_fit(
    release: Release, offering: Offering | None, catalog: Catalog, query: Query, candidate: Candidate
) -> float:
    if query.cloud is None:
        clouds = [c.name for c in catalog.clouds.values() if c.offerings_of(release.release)]
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
    if "lookup" in offering.uncertain:
        candidate.warnings.append("image identifiers follow the provider's naming pattern; not verified")
    if offering.paid:
        candidate.warnings.append(f"paid image: billed as {offering.paid} on top of the instance price")
    return min(points, CLOUD_POINTS_MAX) / CLOUD_POINTS_MAX * WEIGHTS["cloud"]


def image_points(scenario: Scenario, offering: Offering) -> tuple[int, list[str]]:
    """What the scenario's image preferences give an image: its variant's points plus its features'."""
    points, reasons = 0, []
    if offering.variant in scenario.images:
        value, reason = scenario.images[offering.variant]
        points += value
        reasons.append(reason)
    for feature in offering.features:
        if feature in scenario.images:
            value, reason = scenario.images[feature]
            points += value
            reasons.append(reason)
    return points, reasons


def image_fit(scenario: Scenario, offerings: list[Offering], candidate: Candidate) -> float:
    """How well the best of the candidate's images fits the workload (full marks when the scenario
    prefers no kind of image)."""
    if not scenario.images:
        return WEIGHTS["image"]
    best: tuple[int, list[str]] = (0, [])
    for offering in offerings:
        found = image_points(scenario, offering)
        if found[0] > best[0]:
            best = found
    candidate.reasons.extend(best[1])
    possible = max(v for v, _ in scenario.images.values()) + sum(
        v for k, (v, _) in scenario.images.items() if k not in VARIANTS
    )
    return min(best[0] / possible, 1.0) * WEIGHTS["image"] if possible else 0.0


def compliance(
    release: Release, offering: Offering | None, catalog: Catalog, query: Query, candidate: Candidate
) -> float:
    if not query.compliance:
        return WEIGHTS["compliance"]
    met = 0
    for need in query.compliance:
        rule = catalog.compliance[need]
        if any(meets(means, release, offering, catalog, query.as_of) for means in rule.any_of):
            met += 1
            candidate.reasons.append(f"{rule.title}: {rule.reason}")
            if "fips" in rule.any_of:
                candidate.reasons.append(fips_met(release, offering, catalog, query.as_of)[1])
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


def scenario_fit(release: Release, scenario: Scenario, candidate: Candidate) -> float:
    best, chosen = 0, ""
    for key in (release.release, release.release.rsplit("-", 1)[0], release.distro):
        if key in scenario.prefer:
            points, reason = scenario.prefer[key]
            if points > best:
                best, chosen = points, reason
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
