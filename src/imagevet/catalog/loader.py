"""Load and validate the catalog's YAML files; every problem names the file and the field.

The bundled files are the offline default. A user override file (written by `imagevet catalog update`)
may replace lifecycle dates of known releases; it never adds or removes releases.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import replace
from importlib import resources
from typing import Any

import yaml

from imagevet.catalog.model import (
    CLOUDS,
    FEATURES,
    MAC_VALUES,
    Catalog,
    Cloud,
    ComplianceNeed,
    Offering,
    Publisher,
    Release,
    Scenario,
)
from imagevet.catalog.rules import VendorRule, parse_rules
from imagevet.catalog.safe_yaml import Document, Limits, load
from imagevet.errors import DataError

DATA_FILES = ("releases.yaml", "clouds.yaml", "scenarios.yaml", "compliance.yaml", "rules.yaml")
LIFECYCLE_FIELDS = ("released", "eol", "extended_eol")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# The override file lives in the user's data directory: written by `catalog update`, editable by hand.
OVERRIDE_LIMITS = Limits(max_chars=1024 * 1024, max_depth=8, max_aliases=100, max_entries=100_000)


class _Where:
    """Builds error messages that point at the exact record and field."""

    def __init__(self, file: str, record: str) -> None:
        self.file = file
        self.record = record

    def error(self, field: str, problem: str) -> DataError:
        return DataError(f"{self.file}: {self.record}: field '{field}': {problem}")

    def text(self, raw: dict[str, Any], field: str, *, optional: bool = False) -> str:
        value = raw.get(field)
        if value is None and optional:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, "must be a non-empty string")
        return value

    def date(self, raw: dict[str, Any], field: str) -> dt.date | None:
        if field not in raw:
            raise self.error(field, "is missing (use null when unknown)")
        value = raw[field]
        if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            return value
        if isinstance(value, str) and _ISO_DAY.fullmatch(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(field, "must be a YYYY-MM-DD date or null")

    def flag(self, raw: dict[str, Any], field: str) -> bool:
        value = raw.get(field)
        if not isinstance(value, bool):
            raise self.error(field, "must be true or false")
        return value

    def strings(
        self, raw: dict[str, Any], field: str, allowed: tuple[str, ...] | None = None
    ) -> tuple[str, ...]:
        value = raw.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(field, "must be a list of strings")
        if allowed is not None:
            bad = [v for v in value if v not in allowed]
            if bad:
                raise self.error(field, f"unknown value(s) {', '.join(bad)} (allowed: {', '.join(allowed)})")
        return tuple(value)


def _mapping(data: Any, file: str, key: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise DataError(f"{file}: top level must be a mapping with '{key}'")
    return data[key]


def parse_release(raw: Any, index: int) -> Release:
    if not isinstance(raw, dict):
        raise DataError(f"releases.yaml: releases[{index}]: must be a mapping")
    where = _Where("releases.yaml", f"releases[{index}] ({raw.get('release', '?')})")
    mac = where.text(raw, "mac")
    if mac not in MAC_VALUES:
        raise where.error("mac", f"must be one of {', '.join(MAC_VALUES)}")
    packages_raw = raw.get("packages", {})
    if not isinstance(packages_raw, dict):
        raise where.error("packages", "must be a mapping")
    packages: dict[str, str | tuple[str, ...]] = {
        str(k): tuple(str(x) for x in v) if isinstance(v, list) else str(v) for k, v in packages_raw.items()
    }
    fips = raw.get("fips")
    if fips is not None and not isinstance(fips, str):
        raise where.error("fips", "must be a string or null")
    release = Release(
        release=where.text(raw, "release"),
        distro=where.text(raw, "distro"),
        name=where.text(raw, "name"),
        version=where.text(raw, "version"),
        family=where.text(raw, "family"),
        ecosystem=where.text(raw, "ecosystem"),
        lts=where.flag(raw, "lts"),
        released=where.date(raw, "released"),
        eol=where.date(raw, "eol"),
        extended_eol=where.date(raw, "extended_eol"),
        extended_kind=raw.get("extended_kind"),
        mac=mac,
        auto_updates=where.flag(raw, "auto_updates"),
        fips=fips,
        certifications=where.strings(raw, "certifications", ("cis", "stig")),
        arches=where.strings(raw, "arches", ("x86_64", "arm64")),
        packages=packages,
        sources=where.strings(raw, "sources"),
        codename=where.text(raw, "codename", optional=True),
        cloud_init=raw.get("cloud_init"),
        uncertain=where.strings(raw, "uncertain"),
        notes=where.text(raw, "notes", optional=True),
    )
    if not release.sources:
        raise where.error("sources", "every release needs at least one source")
    if release.ecosystem not in ("deb", "rpm", "apk"):
        raise where.error("ecosystem", "must be deb, rpm or apk")
    if release.eol and release.extended_eol and release.extended_eol < release.eol:
        raise where.error("extended_eol", "ends before eol")
    return release


def parse_cloud(key: str, raw: Any, releases: set[str]) -> Cloud:
    where = _Where("clouds.yaml", f"clouds.{key}")
    if key not in CLOUDS:
        raise where.error("(key)", f"unknown cloud (known: {', '.join(CLOUDS)})")
    if not isinstance(raw, dict):
        raise where.error("(record)", "must be a mapping")
    publishers_raw = raw.get("publishers")
    if not isinstance(publishers_raw, dict) or not publishers_raw:
        raise where.error("publishers", "must be a non-empty mapping")
    publishers = {}
    for pkey, praw in publishers_raw.items():
        pwhere = _Where("clouds.yaml", f"clouds.{key}.publishers.{pkey}")
        if not isinstance(praw, dict):
            raise pwhere.error("(record)", "must be a mapping")
        publishers[pkey] = Publisher(pkey, pwhere.text(praw, "name"), pwhere.strings(praw, "ids"))
    offerings = []
    for index, oraw in enumerate(raw.get("offerings") or []):
        owhere = _Where("clouds.yaml", f"clouds.{key}.offerings[{index}]")
        if not isinstance(oraw, dict):
            raise owhere.error("(record)", "must be a mapping")
        release = owhere.text(oraw, "release")
        if release not in releases:
            raise owhere.error("release", f"{release!r} is not in releases.yaml")
        publisher = owhere.text(oraw, "publisher")
        if publisher not in publishers:
            raise owhere.error("publisher", f"{publisher!r} is not among this cloud's publishers")
        lookup = oraw.get("lookup")
        if not isinstance(lookup, dict) or not lookup:
            raise owhere.error("lookup", "must be a non-empty mapping")
        offerings.append(
            Offering(
                cloud=key,
                release=release,
                publisher=publishers[publisher],
                name=owhere.text(oraw, "name"),
                lookup={str(k): str(v) for k, v in lookup.items()},
                features=owhere.strings(oraw, "features", FEATURES),
                uncertain=owhere.strings(oraw, "uncertain"),
            )
        )
    return Cloud(key, where.text(raw, "name"), publishers, tuple(offerings))


def parse_scenario(key: str, raw: Any) -> Scenario:
    where = _Where("scenarios.yaml", f"scenarios.{key}")
    if not isinstance(raw, dict):
        raise where.error("(record)", "must be a mapping")
    prefer: dict[str, tuple[int, str]] = {}
    for name, value in (raw.get("prefer") or {}).items():
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
            raise where.error(f"prefer.{name}", "must be [points, reason]")
        prefer[str(name)] = (value[0], str(value[1]))
    packages: dict[str, tuple[str, int, str]] = {}
    for name, value in (raw.get("packages") or {}).items():
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[1], int)):
            raise where.error(f"packages.{name}", "must be [minimum version, points, reason]")
        packages[str(name)] = (str(value[0]), value[1], str(value[2]))
    return Scenario(
        key, where.text(raw, "title"), where.text(raw, "guide"), prefer, packages, bool(raw.get("gpu"))
    )


def parse_compliance(key: str, raw: Any) -> ComplianceNeed:
    where = _Where("compliance.yaml", f"compliance.{key}")
    if not isinstance(raw, dict):
        raise where.error("(record)", "must be a mapping")
    allowed = ("fips", "cis", "stig", "mlps-variant", "supported")
    return ComplianceNeed(
        key,
        where.text(raw, "title"),
        where.strings(raw, "any_of", allowed),
        where.text(raw, "reason"),
        bool(raw.get("gate", False)),
    )


def override_dates(name: str, text: str, known: set[str]) -> dict[str, dict[str, dt.date | None]]:
    """The lifecycle dates an override file sets for releases the catalog knows (others are ignored:
    an override never adds a release). Every problem names the file and the line."""
    doc = load(text, name, DataError, OVERRIDE_LIMITS)
    root = doc.root
    if not isinstance(root, yaml.MappingNode):
        raise doc.fail(root, "top level must be a mapping with 'releases'")
    entries: yaml.Node | None = None
    for key, key_node, value_node in doc.mapping(root, "the top level"):
        if key not in ("releases", "source", "fetched"):
            raise doc.fail(key_node, "unknown top-level key (allowed: releases, source, fetched)")
        if key == "releases":
            entries = value_node
    if entries is None:
        raise doc.fail(root, "top level must be a mapping with 'releases'")
    if not isinstance(entries, yaml.MappingNode):
        raise doc.fail(entries, "'releases' must map release ids to dates")
    dates: dict[str, dict[str, dt.date | None]] = {}
    for release_id, _, fields_node in doc.mapping(entries, "releases"):
        if release_id not in known:
            continue  # a release this version of imagevet does not know: ignore, never add
        where = f"releases.{release_id}"
        if not isinstance(fields_node, yaml.MappingNode):
            raise doc.fail(fields_node, f"{where}: may only set {', '.join(LIFECYCLE_FIELDS)}")
        fields: dict[str, dt.date | None] = {}
        for field_name, field_node, value_node in doc.mapping(fields_node, where):
            if field_name not in LIFECYCLE_FIELDS:
                raise doc.fail(field_node, f"{where}: may only set {', '.join(LIFECYCLE_FIELDS)}")
            label = f"{where}: field '{field_name}'"
            fields[field_name] = None if Document.is_null(value_node) else doc.date(value_node, label)
        dates[release_id] = fields
    return dates


def apply_overrides(releases: list[Release], dates: dict[str, dict[str, dt.date | None]]) -> list[Release]:
    """Replace lifecycle dates of known releases with those of a user override file."""
    by_id = {r.release: i for i, r in enumerate(releases)}
    for release_id, fields in dates.items():
        index = by_id[release_id]
        current = releases[index]
        releases[index] = replace(
            current,
            released=fields.get("released", current.released),
            eol=fields.get("eol", current.eol),
            extended_eol=fields.get("extended_eol", current.extended_eol),
        )
    return releases


def parse_catalog(texts: dict[str, str], override: tuple[str, str] | None = None) -> Catalog:
    """Build the catalog from the data files' texts (and an optional (name, text) override file)."""

    def load_data(name: str) -> Any:
        try:
            return yaml.load(texts[name], Loader=_LOADER)
        except (yaml.YAMLError, ValueError) as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise DataError(f"{name}: not valid YAML{where}") from exc

    raw_releases = _mapping(load_data("releases.yaml"), "releases.yaml", "releases")
    if not isinstance(raw_releases, list):
        raise DataError("releases.yaml: 'releases' must be a list")
    releases = [parse_release(raw, i) for i, raw in enumerate(raw_releases)]
    ids = [r.release for r in releases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise DataError(f"releases.yaml: duplicate release id(s): {', '.join(sorted(duplicates))}")
    if override is not None:
        name, text = override
        releases = apply_overrides(releases, override_dates(name, text, set(ids)))
    raw_clouds = _mapping(load_data("clouds.yaml"), "clouds.yaml", "clouds")
    clouds = {key: parse_cloud(key, raw, set(ids)) for key, raw in raw_clouds.items()}
    raw_scenarios = _mapping(load_data("scenarios.yaml"), "scenarios.yaml", "scenarios")
    scenarios = {key: parse_scenario(key, raw) for key, raw in raw_scenarios.items()}
    raw_compliance = _mapping(load_data("compliance.yaml"), "compliance.yaml", "compliance")
    compliance = {key: parse_compliance(key, raw) for key, raw in raw_compliance.items()}
    rules: dict[str, VendorRule] = parse_rules(load_data("rules.yaml")) if "rules.yaml" in texts else {}
    return Catalog(tuple(releases), clouds, scenarios, compliance, rules=rules)


def bundled_texts() -> dict[str, str]:
    folder = resources.files("imagevet.catalog").joinpath("data")
    return {name: folder.joinpath(name).read_text(encoding="utf-8") for name in DATA_FILES}


@functools.cache
def bundled_catalog() -> Catalog:
    return parse_catalog(bundled_texts())
