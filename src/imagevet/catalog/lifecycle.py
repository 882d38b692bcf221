"""Lifecycle status of a release on a given day, and the mapping from an image's os-release to a release."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from imagevet.catalog.model import Catalog, Release
from imagevet.catalog.rules import Unlisted, judge
from imagevet.model import OsRelease

SUPPORTED = "supported"
EXTENDED_ONLY = "extended-only"
END_OF_LIFE = "end-of-life"
UNKNOWN = "unknown"

# Distributions whose point releases have lifecycles of their own, named by major.minor (24.04, 22.03,
# SUSE 15.7 for 15 SP7); others by the major. A rolling release is named by its ID alone (flatcar).
FULL_VERSION_IDS = ("ubuntu", "openeuler", "sles", "sles_sap", "opensuse-leap")


@dataclass(frozen=True)
class LifecycleStatus:
    """A release's support status on a date, with the days of standard and extended support left."""

    status: str
    days_left: int | None  # days of free support left (negative once it ended); None when unknown
    extended_days_left: int | None


def lifecycle_status(release: Release, as_of: dt.date) -> LifecycleStatus:
    """``supported`` until ``eol``; then ``extended-only`` while paid support runs; then ``end-of-life``.
    A rolling release is supported while it is kept at its latest version (no end date)."""
    if release.rolling and release.eol is None:
        return LifecycleStatus(SUPPORTED, None, None)
    if release.eol is None:
        return LifecycleStatus(UNKNOWN, None, None)
    days_left = (release.eol - as_of).days
    extended = None if release.extended_eol is None else (release.extended_eol - as_of).days
    if days_left >= 0:
        return LifecycleStatus(SUPPORTED, days_left, extended)
    if extended is not None and extended >= 0:
        return LifecycleStatus(EXTENDED_ONLY, days_left, extended)
    return LifecycleStatus(END_OF_LIFE, days_left, extended)


def distro_id(os: OsRelease) -> str:
    """The distribution as the catalog and the vendor rules name it: the os-release ID, lower case
    (CentOS Stream, which shares ``ID=centos``, is ``centos-stream``)."""
    os_id = os.id.lower()
    if os_id == "centos" and "stream" in os.name.lower():
        os_id = "centos-stream"
    return os_id


def release_id_for(os: OsRelease) -> str:
    """``<ID>-<VERSION_ID>`` as the catalog names it: ``rhel-9`` for 9.4, ``ubuntu-24.04`` for 24.04."""
    os_id = distro_id(os)
    parts = os.version_id.split(".")
    version = ".".join(parts[:2]) if os_id in FULL_VERSION_IDS else parts[0]
    if os_id in ("sles", "sles_sap", "opensuse-leap") and len(parts) == 1:
        version = f"{parts[0]}.0"  # SUSE names a first release "16.0", and so does the catalog
    if os_id == "sles_sap":
        os_id = "sles"  # SLES for SAP Applications follows its SLES service pack's lifecycle
    return f"{os_id}-{version}"


def find_release(os: OsRelease, catalog: Catalog) -> Release | None:
    """The catalog release of an image: by ``<ID>-<version>``, or by the ID alone for a rolling release."""
    found = catalog.release(release_id_for(os))
    if found is None:
        rolling = catalog.release(distro_id(os))
        if rolling is not None and rolling.rolling:
            return rolling
    return found


def judge_unlisted(os: OsRelease, catalog: Catalog) -> Unlisted | None:
    """For a release the catalog does not list: what its vendor's rule says, or None without a rule."""
    rule = catalog.rules.get(distro_id(os))
    if rule is None:
        return None
    return judge(rule, os.version_id, os.pretty_name or f"{os.id} {os.version_id}")
