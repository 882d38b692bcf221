"""Load and validate the catalog's YAML files; every problem names the file and the field.

The bundled files (``data/releases/*.yaml``, ``data/images/*.yaml`` and the scenario, compliance and rule
files; docs/catalog-data.md) are the offline default. A user override file (written by
`imagevet catalog update`) may replace lifecycle dates of known releases; it never adds or removes
releases.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imagevet import knowledge, lazy, packaged
from imagevet.catalog.fields import Where
from imagevet.catalog.model import (
    CLOUDS,
    FEATURES,
    VARIANTS,
    Catalog,
    Cloud,
    ComplianceNeed,
    Release,
    Scenario,
    SupportTier,
)
from imagevet.catalog.parse_images import parse_image_file
from imagevet.catalog.parse_releases import parse_release_file
from imagevet.catalog.rules import VendorRule, parse_rules
from imagevet.catalog.safe_yaml import Document, Limits, load
from imagevet.errors import DataError

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy.module("yaml")  # imported on first use (imagevet/lazy.py)

SINGLE_FILES = ("scenarios.yaml", "compliance.yaml", "rules.yaml")
LIFECYCLE_FIELDS = ("released", "eol", "extended_eol")
# The override file lives in the user's data directory: written by `catalog update`, editable by hand.
OVERRIDE_LIMITS = Limits(max_chars=1024 * 1024, max_depth=8, max_aliases=100, max_entries=100_000)


def _mapping(data: Any, file: str, key: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise DataError(f"{file}: top level must be a mapping with '{key}'")
    return data[key]


def _points(where: Where, raw: Any, field: str) -> dict[str, tuple[int, str]]:
    points: dict[str, tuple[int, str]] = {}
    for name, value in (raw.get(field) or {}).items():
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
            raise where.error(f"{field}.{name}", "must be [points, reason]")
        points[str(name)] = (value[0], str(value[1]))
    return points


def parse_scenario(key: str, raw: Any) -> Scenario:
    where = Where("scenarios.yaml", f"scenarios.{key}")
    record = where.mapping(raw)
    packages: dict[str, tuple[str, int, str]] = {}
    for name, value in (record.get("packages") or {}).items():
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[1], int)):
            raise where.error(f"packages.{name}", "must be [minimum version, points, reason]")
        packages[str(name)] = (str(value[0]), value[1], str(value[2]))
    images = _points(where, record, "images")
    years = record.get("lifecycle_years")
    if years is not None and (isinstance(years, bool) or not isinstance(years, int | float) or years < 0):
        raise where.error("lifecycle_years", "must be a non-negative number of years")
    unknown = [name for name in images if name not in VARIANTS + FEATURES]
    if unknown:
        raise where.error("images", f"unknown variant or feature(s) {', '.join(unknown)}")
    return Scenario(
        key,
        where.text(record, "title"),
        where.text(record, "guide"),
        _points(where, record, "prefer"),
        packages,
        bool(record.get("gpu")),
        images,
        None if years is None else float(years),
    )


COMPLIANCE_MEANS = ("fips", "cis", "stig", "mlps", "supported")


def parse_compliance(key: str, raw: Any) -> ComplianceNeed:
    where = Where("compliance.yaml", f"compliance.{key}")
    record = where.mapping(raw)
    return ComplianceNeed(
        key,
        where.text(record, "title"),
        where.strings(record, "any_of", COMPLIANCE_MEANS),
        where.text(record, "reason"),
        bool(record.get("gate", False)),
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


def _with_end(tiers: tuple[SupportTier, ...], free: bool, end: dt.date | None) -> tuple[SupportTier, ...]:
    """Tiers with a new end for free support (``eol``: the last free tier, and any earlier free tier that
    would outlast it) or for the first paid tier (``extended_eol``). A paid end that would put the paid
    tiers out of order is not applied."""
    indexes = [i for i, t in enumerate(tiers) if t.free == free]
    if not indexes:
        return tiers
    changed = list(tiers)
    if free:
        for i in indexes:
            ends = changed[i].ends
            if i == indexes[-1] or (end is not None and ends is not None and ends > end):
                changed[i] = replace(changed[i], ends=end)
        return tuple(changed)
    changed[indexes[0]] = replace(tiers[indexes[0]], ends=end)
    dated = [t.ends for t in changed if not t.free and t.ends is not None]
    return tuple(changed) if dated == sorted(dated) else tiers


def apply_overrides(releases: list[Release], dates: dict[str, dict[str, dt.date | None]]) -> list[Release]:
    """Replace lifecycle dates of known releases with those of a user override file: ``eol`` is the end
    of the last free tier, ``extended_eol`` the end of the first paid one. A date that would put the
    tiers out of order is not applied."""
    by_id = {r.release: i for i, r in enumerate(releases)}
    for release_id, fields in dates.items():
        index = by_id[release_id]
        current = releases[index]
        tiers = current.tiers
        if "eol" in fields:
            tiers = _with_end(tiers, True, fields["eol"])
        if "extended_eol" in fields:
            tiers = _with_end(tiers, False, fields["extended_eol"])
        releases[index] = replace(current, released=fields.get("released", current.released), tiers=tiers)
    return releases


class _LazyClouds(Mapping[str, Cloud]):
    """The clouds' image files, parsed on first use. Half the catalog's YAML is images, which an audit
    only reads when it verifies an image id; every other command that needs them parses them once."""

    def __init__(self, build: Callable[[], dict[str, Cloud]]) -> None:
        self._build = build
        self._clouds: dict[str, Cloud] | None = None

    def _parsed(self) -> dict[str, Cloud]:
        if self._clouds is None:
            self._clouds = self._build()
        return self._clouds

    def __getitem__(self, key: str) -> Cloud:
        return self._parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())


def parse_catalog(
    texts: dict[str, str], override: tuple[str, str] | None = None, *, lazy_images: bool = False
) -> Catalog:
    """Build the catalog from the data files' texts, keyed by their path under ``data/``
    (``releases/ubuntu.yaml``, ``images/aws.yaml``, ``scenarios.yaml`` ...), and an optional
    (name, text) override file. With ``lazy_images`` the image files are parsed (and validated) on the
    first use of ``clouds``, for the bundled files the tests validate whole."""
    return assemble_catalog(texts, catalog_core(texts, override), lazy_images=lazy_images)


CatalogCore = tuple[
    tuple[Release, ...], dict[str, Scenario], dict[str, ComplianceNeed], dict[str, VendorRule], Any
]


def _loaded(texts: dict[str, str], name: str) -> Any:
    try:
        return knowledge.safe_yaml(texts[name])
    except (yaml.YAMLError, ValueError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise DataError(f"{name}: not valid YAML{where}") from exc


def catalog_core(texts: dict[str, str], override: tuple[str, str] | None) -> CatalogCore:
    """Everything of the catalog but the cloud image files: releases (with the override applied),
    scenarios, compliance profiles, vendor rules and the FIPS 140-2 historical date, validated."""
    releases: list[Release] = []
    for name in sorted(n for n in texts if n.startswith("releases/")):
        releases.extend(parse_release_file(name, _loaded(texts, name)))
    if not releases:
        raise DataError("the catalog has no releases (data/releases/*.yaml)")
    ids = [r.release for r in releases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise DataError(f"releases/: duplicate release id(s): {', '.join(sorted(duplicates))}")
    if override is not None:
        name, text = override
        releases = apply_overrides(releases, override_dates(name, text, set(ids)))
    raw_scenarios = _mapping(_loaded(texts, "scenarios.yaml"), "scenarios.yaml", "scenarios")
    scenarios = {key: parse_scenario(key, raw) for key, raw in raw_scenarios.items()}
    compliance_data = _loaded(texts, "compliance.yaml")
    raw_compliance = _mapping(compliance_data, "compliance.yaml", "compliance")
    compliance = {key: parse_compliance(key, raw) for key, raw in raw_compliance.items()}
    historical = Where("compliance.yaml", "top level").date(compliance_data, "fips_140_2_historical")
    rules = parse_rules(_loaded(texts, "rules.yaml")) if "rules.yaml" in texts else {}
    return tuple(releases), scenarios, compliance, rules, historical


def assemble_catalog(texts: dict[str, str], core: CatalogCore, *, lazy_images: bool = False) -> Catalog:
    """The catalog of ``core`` and the cloud image files among ``texts`` (checked against its releases)."""
    releases, scenarios, compliance, rules, historical = core
    ids = {r.release for r in releases}

    def parse_clouds() -> dict[str, Cloud]:
        clouds: dict[str, Cloud] = {}
        for name in sorted(n for n in texts if n.startswith("images/")):
            cloud = parse_image_file(name, _loaded(texts, name), ids)
            if cloud.key in clouds:
                raise DataError(f"{name}: cloud {cloud.key!r} is described twice")
            clouds[cloud.key] = cloud
        return {key: clouds[key] for key in sorted(clouds, key=CLOUDS.index)}  # the order users know

    clouds: Mapping[str, Cloud] = _LazyClouds(parse_clouds) if lazy_images else parse_clouds()
    return Catalog(releases, clouds, scenarios, compliance, rules=rules, fips_140_2_historical=historical)


def _yaml_files(folder: Path, prefix: str) -> dict[str, str]:
    return {
        f"{prefix}{entry.name}": entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def bundled_texts() -> dict[str, str]:
    folder = packaged.folder("imagevet.catalog") / "data"
    texts = {name: folder.joinpath(name).read_text(encoding="utf-8") for name in SINGLE_FILES}
    texts.update(_yaml_files(folder.joinpath("releases"), "releases/"))
    texts.update(_yaml_files(folder.joinpath("images"), "images/"))
    return texts


@functools.cache
def bundled_catalog() -> Catalog:
    """The catalog shipped with imagevet; all but its image files validated once per text and code
    (knowledge.validated), the image files on first use."""
    texts = bundled_texts()
    core_texts = [f"{name}\0{text}" for name, text in sorted(texts.items()) if not name.startswith("images/")]
    core = knowledge.validated("catalog", core_texts, lambda: catalog_core(texts, None))
    return assemble_catalog(texts, core, lazy_images=True)
