"""Typed catalog records: releases, cloud offerings, publishers, scenarios, compliance needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imagevet.catalog.rules import VendorRule

MAC_VALUES = ("apparmor", "selinux-enforcing", "selinux-permissive", "none")
FEATURES = (
    "imdsv2-default",
    "cloud-agent",
    "live-patching",
    "cloud-optimized",
    "pro-variant",
    "fips-variant",
    "gpu-variant",
    "mlps-variant",
)
CLOUDS = ("aws", "azure", "alibaba", "tencent", "gcp")


@dataclass(frozen=True)
class Release:
    """One OS release and its lifecycle, with the source of every fact."""

    release: str
    distro: str
    name: str
    version: str
    family: str
    ecosystem: str
    lts: bool
    released: dt.date | None
    eol: dt.date | None
    extended_eol: dt.date | None
    extended_kind: str | None
    mac: str
    auto_updates: bool
    fips: str | None
    certifications: tuple[str, ...]
    arches: tuple[str, ...]
    packages: dict[str, str | tuple[str, ...]]
    sources: tuple[str, ...]
    codename: str = ""
    cloud_init: str | None = None
    uncertain: tuple[str, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Publisher:
    key: str
    name: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Offering:
    """A release as a cloud offers it officially, and how to find it there."""

    cloud: str
    release: str
    publisher: Publisher
    name: str
    lookup: dict[str, str]
    features: tuple[str, ...]
    uncertain: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cloud:
    key: str
    name: str
    publishers: dict[str, Publisher]
    offerings: tuple[Offering, ...]

    def offering(self, release: str) -> Offering | None:
        return next((o for o in self.offerings if o.release == release), None)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    guide: str
    prefer: dict[str, tuple[int, str]]
    packages: dict[str, tuple[str, int, str]]
    gpu: bool = False


@dataclass(frozen=True)
class ComplianceNeed:
    key: str
    title: str
    any_of: tuple[str, ...]
    reason: str
    gate: bool = False


@dataclass(frozen=True)
class Catalog:
    releases: tuple[Release, ...]
    clouds: dict[str, Cloud]
    scenarios: dict[str, Scenario]
    compliance: dict[str, ComplianceNeed]
    sources: tuple[str, ...] = field(default=())
    rules: dict[str, VendorRule] = field(default_factory=dict)  # by os-release ID (data/rules.yaml)

    def release(self, release_id: str) -> Release | None:
        wanted = release_id.lower()
        return next((r for r in self.releases if r.release.lower() == wanted), None)
