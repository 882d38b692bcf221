"""Which support tier covers a horizon, and whether a compliance need is met: pure judgements over the
catalog's tiers and FIPS records, shared by the ranking and its explanations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from imagevet.catalog.model import Catalog, Offering, Release, SupportTier

DAYS_PER_YEAR = 365.25
COST_WORDS = {
    "free": "free",
    "subscription": "a vendor subscription",
    "add-on": "a paid add-on",
    "marketplace-premium": "a Marketplace premium on top of the instance price",
}


@dataclass(frozen=True)
class Coverage:
    """The support a candidate counts on: until when, by which tier, whether it is paid."""

    until: dt.date | None  # None: rolling (supported while kept at its latest version)
    tier: SupportTier | None
    paid: bool
    years: float | None  # support left from the query's day, None for a rolling release


def years_until(day: dt.date, as_of: dt.date) -> float:
    return (day - as_of).days / DAYS_PER_YEAR


def coverage(release: Release, as_of: dt.date, horizon: float, allow_paid: bool) -> Coverage | None:
    """The support to count: the free tiers, or with ``allow_paid`` the earliest paid tier that covers
    the horizon (else the longest paid one). None when nothing dated covers ``as_of`` at all."""
    if release.rolling and release.eol is None:
        return Coverage(None, release.free_tiers[0] if release.free_tiers else None, False, None)
    free_end = release.eol
    free_tier = release.free_tiers[-1] if release.free_tiers else None
    best = None
    if free_end is not None and free_end >= as_of:
        best = Coverage(free_end, free_tier, False, years_until(free_end, as_of))
        if best.years is not None and best.years >= horizon:
            return best
    if not allow_paid:
        return best
    paid = [t for t in release.paid_tiers if t.ends is not None and t.ends >= as_of]
    for tier in paid:  # tiers are in order: the first that covers the horizon is the cheapest
        assert tier.ends is not None
        if years_until(tier.ends, as_of) >= horizon:
            return Coverage(tier.ends, tier, True, years_until(tier.ends, as_of))
    if paid:
        last = paid[-1]
        assert last.ends is not None
        return Coverage(last.ends, last, True, years_until(last.ends, as_of))
    return best


def paid_cover(release: Release, as_of: dt.date, horizon: float) -> SupportTier | None:
    """The first paid tier that would cover the horizon, to name it when paid support is not counted."""
    for tier in release.paid_tiers:
        if tier.ends is not None and years_until(tier.ends, as_of) >= horizon:
            return tier
    return None


def fips_ok(release: Release, catalog: Catalog, as_of: dt.date) -> tuple[bool, str]:
    """Whether the release's FIPS modules satisfy a FIPS requirement on ``as_of``, and why (not)."""
    fips = release.fips
    if fips is None:
        return False, "no FIPS 140 validated modules for this release"
    if fips.status != "validated":
        return False, f"its FIPS modules ({fips.modules}) are {fips.status.replace('-', ' ')}, not validated"
    historical = catalog.fips_140_2_historical
    if fips.standard == "140-2" and historical is not None and as_of >= historical:
        return False, (
            f"its modules are FIPS 140-2 validated only; NIST moved 140-2 certificates to the historical "
            f"list on {historical.isoformat()}"
        )
    return True, f"FIPS {fips.standard} validated modules ({fips.modules})"


def fips_image(offering: Offering) -> bool:
    return offering.variant == "fips" or "fips-mode" in offering.features


def fips_met(
    release: Release, offering: Offering | None, catalog: Catalog, as_of: dt.date
) -> tuple[bool, str]:
    """Whether this image (or, cloud-neutral, some official image of the release) carries FIPS modules
    validated on ``as_of``, and why (not). Modules that ship only in the vendor's FIPS images count only
    for those images."""
    ok, why = fips_ok(release, catalog, as_of)
    if not ok or release.fips is None or release.fips.scope == "release":
        return ok, why
    if offering is not None:
        found = fips_image(offering)
    else:
        found = any(fips_image(o) for c in catalog.clouds.values() for o in c.offerings_of(release.release))
    if found:
        return True, why
    where = "this image is not one" if offering is not None else "no official FIPS image is catalogued"
    return (
        False,
        f"its validated modules ({release.fips.modules}) ship only in the vendor's FIPS images; {where}",
    )


def meets(need: str, release: Release, offering: Offering | None, catalog: Catalog, as_of: dt.date) -> bool:
    """One means of a compliance need (compliance.yaml ``any_of``) for a release and, if any, an image."""
    if need == "fips":
        return fips_met(release, offering, catalog, as_of)[0]
    if need in ("cis", "stig"):
        return need in release.certifications
    if need == "mlps":
        return offering is not None and (offering.variant == "mlps" or "mlps-level3" in offering.features)
    return need == "supported"  # gates already require security support today
