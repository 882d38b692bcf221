"""Parse ``releases/<vendor>.yaml``: releases, their support tiers and FIPS validation (see
docs/catalog-data.md). Pure: text in, records out; every problem names the file, record and field."""

from __future__ import annotations

from typing import Any

from imagevet.catalog.fields import Where, parse_sources
from imagevet.catalog.model import (
    FIPS_SCOPES,
    FIPS_STANDARDS,
    FIPS_STATUSES,
    MAC_VALUES,
    TIER_COSTS,
    TIER_KINDS,
    Fips,
    Release,
    Source,
    SupportTier,
)
from imagevet.errors import DataError

FAMILIES = ("debian", "rhel", "suse", "alpine", "other")


def _tiers(where: Where, raw: Any, sources: dict[str, Source]) -> tuple[SupportTier, ...]:
    if not isinstance(raw, list) or not raw:
        raise where.error("tiers", "must be a non-empty list of support tiers")
    tiers = []
    for index, item in enumerate(raw):
        tw = Where(where.file, f"{where.record}: tiers[{index}]")
        record = tw.mapping(item)
        tiers.append(
            SupportTier(
                tier=tw.choice(record, "tier", TIER_KINDS),
                name=tw.text(record, "name"),
                ends=tw.date(record, "ends"),
                cost=tw.choice(record, "cost", TIER_COSTS),
                source=tw.source(record, "source", sources),
                how=tw.text(record, "how", optional=True),
            )
        )
    seen_paid = False
    for tier in tiers:
        if not tier.free:
            seen_paid = True
        elif seen_paid:
            raise where.error("tiers", f"free tier {tier.tier!r} comes after a paid one (free tiers first)")
    # Free tiers follow each other; paid tiers too. A paid tier may end before the free ones do: a side
    # branch such as RHEL EUS, which keeps one minor release patched while the release moves on.
    for free, label in ((True, "free"), (False, "paid")):
        dated = [t.ends for t in tiers if t.free == free and t.ends is not None]
        if dated != sorted(dated):
            raise where.error("tiers", f"{label} tiers must end in order")
    return tuple(tiers)


def _fips(where: Where, raw: Any, sources: dict[str, Source]) -> Fips | None:
    if raw is None:
        return None
    fw = Where(where.file, f"{where.record}: fips")
    record = fw.mapping(raw)
    return Fips(
        modules=fw.text(record, "modules"),
        standard=fw.choice(record, "standard", FIPS_STANDARDS),
        status=fw.choice(record, "status", FIPS_STATUSES),
        source=fw.source(record, "source", sources),
        scope=fw.choice(record, "scope", FIPS_SCOPES),
    )


def _packages(where: Where, raw: Any) -> dict[str, str | tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise where.error("packages", "must be a mapping")
    packages: dict[str, str | tuple[str, ...]] = {}
    for key, value in raw.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            packages[str(key)] = tuple(value)
        elif isinstance(value, str):
            packages[str(key)] = value
        else:
            raise where.error(f"packages.{key}", "must be a version string or a list of them")
    return packages


def parse_release(file: str, raw: Any, index: int, sources: dict[str, Source]) -> Release:
    label = raw.get("release", "?") if isinstance(raw, dict) else "?"
    where = Where(file, f"releases[{index}] ({label})")
    record = where.mapping(raw)
    cloud_init = record.get("cloud_init")
    if cloud_init is not None and not isinstance(cloud_init, str):
        raise where.error("cloud_init", "must be a string or null")
    release = Release(
        release=where.text(record, "release"),
        distro=where.text(record, "distro"),
        name=where.text(record, "name"),
        version=where.text(record, "version"),
        family=where.choice(record, "family", FAMILIES),
        ecosystem=where.choice(record, "ecosystem", ("deb", "rpm", "apk")),
        lts=where.flag(record, "lts"),
        released=where.date(record, "released"),
        tiers=_tiers(where, record.get("tiers"), sources),
        mac=where.choice(record, "mac", MAC_VALUES),
        auto_updates=where.flag(record, "auto_updates"),
        fips=_fips(where, record.get("fips"), sources),
        certifications=where.strings(record, "certifications", ("cis", "stig")),
        arches=where.strings(record, "arches", ("x86_64", "arm64")),
        packages=_packages(where, record.get("packages", {})),
        sources=where.sources(record, "sources", sources),
        codename=where.text(record, "codename", optional=True),
        cloud_init=cloud_init,
        uncertain=where.strings(record, "uncertain"),
        notes=where.text(record, "notes", optional=True),
        rolling=where.flag(record, "rolling", False),
        variant_ids=where.strings(record, "variant_ids"),
        recommendable=where.flag(record, "recommendable", True),
    )
    if not release.arches:
        raise where.error("arches", "must name at least one architecture")
    return release


def parse_release_file(file: str, data: Any) -> list[Release]:
    if not isinstance(data, dict) or "releases" not in data:
        raise DataError(f"{file}: top level must be a mapping with 'sources' and 'releases'")
    unknown = set(data) - {"sources", "releases"}
    if unknown:
        raise DataError(f"{file}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}")
    sources = parse_sources(file, data.get("sources"))
    raw = data["releases"]
    if not isinstance(raw, list):
        raise DataError(f"{file}: 'releases' must be a list")
    return [parse_release(file, item, index, sources) for index, item in enumerate(raw)]
