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

# Distributions whose releases are named by the full VERSION_ID (24.04, 22.03); others by the major.
FULL_VERSION_IDS = ("ubuntu", "openeuler")


@dataclass(frozen=True)
class LifecycleStatus:
    status: str
    days_left: int | None  # days of free support left (negative once it ended); None when unknown
    extended_days_left: int | None


def lifecycle_status(release: Release, as_of: dt.date) -> LifecycleStatus:
    """``supported`` until ``eol``; then ``extended-only`` while paid support runs; then ``end-of-life``."""
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
    version = os.version_id if os_id in FULL_VERSION_IDS else os.version_id.split(".", 1)[0]
    if os_id == "ubuntu":
        version = ".".join(os.version_id.split(".")[:2])
    return f"{os_id}-{version}"


def find_release(os: OsRelease, catalog: Catalog) -> Release | None:
    return catalog.release(release_id_for(os))


def judge_unlisted(os: OsRelease, catalog: Catalog) -> Unlisted | None:
    """For a release the catalog does not list: what its vendor's rule says, or None without a rule."""
    rule = catalog.rules.get(distro_id(os))
    if rule is None:
        return None
    return judge(rule, os.version_id, os.pretty_name or f"{os.id} {os.version_id}")
