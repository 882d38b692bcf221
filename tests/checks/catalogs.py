"""Catalogs built in a test, so that tests never depend on the bundled data's dates (which change)."""

from __future__ import annotations

import datetime as dt

from imagevet.catalog.loader import bundled_catalog
from imagevet.catalog.model import Catalog, Release, Source, SupportTier

SOURCE = Source("https://example.invalid/test-catalog", dt.date(2026, 12, 2))


def tier(kind: str, ends: dt.date | None, cost: str = "free", name: str = "") -> SupportTier:
    return SupportTier(kind, name or f"test {kind} tier", ends, cost, SOURCE)


def release(
    release_id: str,
    distro: str,
    version: str,
    family: str,
    tiers: tuple[SupportTier, ...],
    *,
    lts: bool = True,
    variant_ids: tuple[str, ...] = (),
    name: str = "",
) -> Release:
    return Release(
        release=release_id,
        distro=distro,
        name=name or f"Test {distro} {version}",
        version=version,
        family=family,
        ecosystem="deb" if family == "debian" else "rpm",
        lts=lts,
        released=None,
        tiers=tiers,
        mac="none",
        auto_updates=False,
        fips=None,
        certifications=(),
        arches=("x86_64",),
        packages={},
        sources=(SOURCE,),
        variant_ids=variant_ids,
    )


def catalog(*releases: Release) -> Catalog:
    """Only these releases, with the bundled vendor rules (for releases the catalog does not list)."""
    return Catalog(releases=releases, clouds={}, scenarios={}, compliance={}, rules=bundled_catalog().rules)
