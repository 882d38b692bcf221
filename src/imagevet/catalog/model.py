"""Typed catalog records: releases with their support tiers, cloud images, publishers, scenarios.

Every fact carries its source (a URL and the day it was checked); facts that could not be confirmed from
a primary source are named in ``uncertain`` and shown as warnings wherever they are used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from imagevet.model import CLOUDS as CLOUDS  # the vocabulary's home is the shared model

if TYPE_CHECKING:
    from imagevet.catalog.rules import VendorRule

MAC_VALUES = ("apparmor", "selinux-enforcing", "selinux-permissive", "none")

# Support tiers, in the order a release passes through them.
#   standard     the vendor's free security maintenance
#   maintenance  a free, reduced phase (RHEL Maintenance, SUSE general support of an older SP)
#   lts          free community long-term support (Debian LTS)
#   esm          Ubuntu Pro Expanded Security Maintenance
#   eus          Red Hat Extended Update Support / Enhanced EUS / E4S of one minor release
#   ltss         SUSE Long Term Service Pack Support
#   els          Extended Life-cycle Support (Red Hat ELS, Alibaba ELS, TuxCare-style vendor ELS)
#   legacy       a further paid add-on after ESM/ELS (Ubuntu Pro Legacy add-on)
TIER_KINDS = ("standard", "maintenance", "lts", "esm", "eus", "ltss", "els", "legacy")
# What a tier costs, in kind:
#   free                 comes with the release
#   subscription         the vendor's subscription (Ubuntu Pro, RHEL, SLES); in cloud "pay as you go"
#                        images the subscription is part of the hourly price
#   add-on               an extra purchase on top of the subscription (ELS, Legacy add-on, LTSS)
#   marketplace-premium  billed by the cloud marketplace on top of the instance price
TIER_COSTS = ("free", "subscription", "add-on", "marketplace-premium")
PAID_COSTS = ("subscription", "add-on", "marketplace-premium")

# What an image is, beyond the release it carries.
VARIANTS = (
    "general",  # the vendor's plain server image
    "minimal",  # a reduced package set
    "pro",  # Ubuntu Pro / a subscription image with extended support included
    "fips",  # FIPS mode on, validated modules installed
    "gpu",  # the NVIDIA driver (and usually CUDA) preinstalled
    "deep-learning",  # GPU driver, CUDA and ML frameworks (AWS DLAMI, GCP Deep Learning VM)
    "k8s-node",  # a managed-Kubernetes node image (EKS-optimised, Bottlerocket k8s, AKS, GKE, ACK, TKE)
    "container-host",  # a container-optimised OS for running containers (COS, Flatcar, Bottlerocket ECS)
    "mlps",  # hardened to China's MLPS 2.0 (GB/T 22239-2019) level 3
    "sap",  # the vendor's SAP variant (RHEL for SAP Solutions, SLES for SAP Applications)
    "ha",  # the vendor's high-availability add-on image
    "cis",  # hardened to a CIS Benchmark level by the vendor or CIS
)
FEATURES = (
    "imdsv2-default",  # instances launched from it require IMDSv2
    "cloud-agent",  # the cloud's management agent is preinstalled
    "live-patching",  # kernel live patching is available
    "cloud-optimized",  # built and tuned by the cloud provider
    "gpu-driver",  # the NVIDIA driver is preinstalled
    "cuda",  # the CUDA toolkit is preinstalled
    "ml-frameworks",  # PyTorch or other ML frameworks are preinstalled
    "fips-mode",  # FIPS mode is on at first boot
    "mlps-level3",  # hardened to MLPS 2.0 level 3 by the vendor
    "immutable",  # read-only root, image-based updates
    "auto-update",  # the OS updates itself (image or package based) by default
    "container-runtime",  # containerd or Docker preinstalled
    "kubelet",  # the kubelet and the cloud's Kubernetes node tooling are preinstalled
)
FIPS_STANDARDS = ("140-2", "140-3")
FIPS_STATUSES = ("validated", "in-process", "historical", "not-validated")
# Where the validated modules are: in the release's own packages (any image: RHEL, Oracle Linux, AL2023),
# or only in the vendor's FIPS images or subscription builds (Ubuntu Pro FIPS, Rocky Linux from CIQ,
# Bottlerocket -fips variants), so a plain image of the release does not carry them.
FIPS_SCOPES = ("release", "fips-images")


@dataclass(frozen=True)
class Source:
    """Where a fact was read: a URL and the day it was checked there."""

    url: str
    checked: dt.date

    def cite(self) -> str:
        return f"{self.url} (checked {self.checked.isoformat()})"


@dataclass(frozen=True)
class SupportTier:
    """One phase of a release's support, with its end and what it costs."""

    tier: str
    name: str
    ends: dt.date | None
    cost: str
    source: Source
    how: str = ""

    @property
    def free(self) -> bool:
        return self.cost == "free"


@dataclass(frozen=True)
class Fips:
    """The FIPS 140 validation of a release's crypto modules."""

    modules: str
    standard: str  # 140-2 | 140-3
    status: str  # validated | in-process | historical | not-validated
    source: Source
    scope: str = "fips-images"  # release | fips-images (FIPS_SCOPES)


@dataclass(frozen=True)
class Release:
    """One OS release (as os-release names it) and its lifecycle, with the source of every fact."""

    release: str
    distro: str
    name: str
    version: str
    family: str
    ecosystem: str
    lts: bool
    released: dt.date | None
    tiers: tuple[SupportTier, ...]
    mac: str
    auto_updates: bool
    fips: Fips | None
    certifications: tuple[str, ...]
    arches: tuple[str, ...]
    packages: dict[str, str | tuple[str, ...]]
    sources: tuple[Source, ...]
    codename: str = ""
    cloud_init: str | None = None
    uncertain: tuple[str, ...] = ()
    notes: str = ""
    rolling: bool = False  # supported while updated to the latest version (Flatcar, Bottlerocket)
    variant_ids: tuple[str, ...] = ()  # os-release VARIANT_ID values the vendor's images set
    recommendable: bool = True  # false for releases imagevet knows but never recommends (Fedora)

    @property
    def free_tiers(self) -> tuple[SupportTier, ...]:
        return tuple(t for t in self.tiers if t.free)

    @property
    def paid_tiers(self) -> tuple[SupportTier, ...]:
        return tuple(t for t in self.tiers if not t.free)

    @property
    def eol(self) -> dt.date | None:
        """End of free security support: the end of the last free tier (None when unknown)."""
        free = self.free_tiers
        return free[-1].ends if free else None

    @property
    def extended_eol(self) -> dt.date | None:
        """End of the last paid tier, or None."""
        ends = [t.ends for t in self.paid_tiers if t.ends is not None]
        return max(ends) if ends else None

    @property
    def extended_kind(self) -> str | None:
        paid = [t for t in self.paid_tiers if t.ends is not None and t.ends == self.extended_eol]
        return paid[0].name if paid else None

    def tier(self, kind: str) -> SupportTier | None:
        return next((t for t in self.tiers if t.tier == kind), None)

    def citations(self) -> tuple[str, ...]:
        return tuple(s.cite() for s in self.sources)


@dataclass(frozen=True)
class Publisher:
    """An image publisher on one cloud: its key, its name, and the account ids of its official images."""

    key: str
    name: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Offering:
    """An official image on one cloud: the release it carries, what kind of image it is, how to find it."""

    cloud: str
    release: str
    publisher: Publisher
    name: str
    lookup: dict[str, str]
    features: tuple[str, ...]
    uncertain: tuple[str, ...] = ()
    image: str = ""  # key, unique on its cloud
    variant: str = "general"
    paid: str | None = None  # None, or one of PAID_COSTS: what using the image costs beyond the instance
    sources: tuple[Source, ...] = ()
    notes: str = ""
    arches: tuple[str, ...] = ()  # empty: the release's

    def citations(self) -> tuple[str, ...]:
        return tuple(s.cite() for s in self.sources)


@dataclass(frozen=True)
class Cloud:
    """One cloud's publishers and image offerings, as the catalog's image files describe them."""

    key: str
    name: str
    publishers: dict[str, Publisher]
    offerings: tuple[Offering, ...]

    def offering(self, release: str) -> Offering | None:
        """The plain image of a release (its ``general`` variant first), or None."""
        found = self.offerings_of(release)
        return next((o for o in found if o.variant == "general"), found[0] if found else None)

    def offerings_of(self, release: str) -> tuple[Offering, ...]:
        return tuple(o for o in self.offerings if o.release == release)


@dataclass(frozen=True)
class Scenario:
    """A deployment scenario (web/API, Kubernetes node, ...): what it prefers, needs and must avoid."""

    key: str
    title: str
    guide: str
    prefer: dict[str, tuple[int, str]]
    packages: dict[str, tuple[str, int, str]]
    gpu: bool = False
    images: dict[str, tuple[int, str]] = field(default_factory=dict)  # variant or feature -> points, reason
    lifecycle_years: float | None = None  # the horizon when the user names none (None: the CLI's default)


@dataclass(frozen=True)
class ComplianceNeed:
    """A compliance requirement a recommendation can be asked for, and the releases or images that meet it."""

    key: str
    title: str
    any_of: tuple[str, ...]
    reason: str
    gate: bool = False


@dataclass(frozen=True)
class Catalog:
    """Everything the recommender knows: releases, clouds, scenarios, compliance needs and vendor rules."""

    releases: tuple[Release, ...]
    clouds: Mapping[str, Cloud]  # the image files may be parsed on first use (loader.parse_catalog)
    scenarios: dict[str, Scenario]
    compliance: dict[str, ComplianceNeed]
    sources: tuple[str, ...] = field(default=())
    rules: dict[str, VendorRule] = field(default_factory=dict)  # by os-release ID (data/rules.yaml)
    fips_140_2_historical: dt.date | None = None  # from compliance.yaml (NIST CMVP)

    def release(self, release_id: str) -> Release | None:
        wanted = release_id.lower()
        return next((r for r in self.releases if r.release.lower() == wanted), None)
