"""Decide official / unofficial / unknown from what the cloud reported and the catalog's publisher
identities. Pure: no I/O, no clock (``now`` is given)."""

from __future__ import annotations

import datetime as dt
import fnmatch

from imagevet.catalog.model import Catalog, Cloud, Offering, Publisher
from imagevet.provenance.ids import ImageRef
from imagevet.provenance.model import OFFICIAL, UNKNOWN, UNOFFICIAL, ImageRecord, Lookup, Verification


def publisher_of(cloud: Cloud, owners: tuple[str, ...]) -> tuple[Publisher, str] | None:
    """The catalog publisher whose identity matches one of the image's owners, and that owner. Azure
    publisher names are case-insensitive; the other clouds' identities are compared exactly."""

    def fold(identity: str) -> str:
        return identity.lower() if cloud.key == "azure" else identity

    for owner in owners:
        for publisher in cloud.publishers.values():
            if fold(owner) in {fold(i) for i in publisher.ids}:
                return publisher, owner
    return None


def offering_of(cloud: Cloud, ref: ImageRef, record: ImageRecord) -> Offering | None:
    """The catalog offering this image is a build of, recognised by the cloud's own naming."""
    for offering in cloud.offerings:
        lookup = offering.lookup
        if cloud.key == "aws" and "name" in lookup and fnmatch.fnmatchcase(record.name, lookup["name"]):
            return offering
        if cloud.key == "tencent" and "name" in lookup and fnmatch.fnmatchcase(record.name, lookup["name"]):
            return offering
        if cloud.key in ("alibaba", "gcp") and record.family and lookup.get("family") == record.family:
            return offering
        if cloud.key == "azure":
            wanted = ":".join(ref.parts.get(k, "") for k in ("publisher", "offer", "sku")).lower()
            if "urn" in lookup and lookup["urn"].rsplit(":", 1)[0].lower() == wanted:
                return offering
    return None


def _distro(catalog: Catalog, offering: Offering) -> str | None:
    release = catalog.release(offering.release)
    return release.distro if release else None


def judge(cloud: Cloud, catalog: Catalog, ref: ImageRef, lookup: Lookup, now: dt.datetime) -> Verification:
    record = lookup.record
    if record is None:
        return Verification(
            cloud.key,
            ref.image_id,
            UNKNOWN,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            False,
            None,
            reasons=(lookup.reason,),
        )
    reasons = []
    matched = publisher_of(cloud, record.owners)
    offering = offering_of(cloud, ref, record)
    release = catalog.release(offering.release) if offering else None
    distro = release.distro if release else (record.os_distro.lower() or None)
    version = release.version if release else (record.os_version or None)
    publisher: Publisher | None
    owner: str | None
    if matched:
        publisher, owner = matched
        verdict = OFFICIAL
        reasons.append(f"published by {publisher.name} ({owner}), an official publisher on {cloud.name}")
    else:
        publisher, owner = None, record.owners[0] if record.owners else None
        verdict = UNOFFICIAL
        reasons.append(f"owner {owner or '(none reported)'} is not an official publisher on {cloud.name}")
    deprecated = record.deprecated or (record.deprecation_time is not None and record.deprecation_time <= now)
    if deprecated:
        when = f" since {record.deprecation_time.date().isoformat()}" if record.deprecation_time else ""
        reasons.append(f"the image is deprecated{when}")
    age = (now - record.created).days if record.created else None
    newer = None
    candidate = lookup.newer
    if (
        candidate
        and candidate.image_id != record.image_id
        and (record.created is None or (candidate.created and candidate.created > record.created))
    ):
        newer = candidate.image_id
        reasons.append(f"a newer official image of the same release exists: {newer}")
    alternatives: tuple[dict[str, str], ...] = ()
    if verdict == UNOFFICIAL:
        # The distribution's plain images: a lookalike of Ubuntu is answered with Canonical's Ubuntu,
        # not with the Deep Learning or node images other publishers build on it.
        same = [
            o for o in cloud.offerings if distro and o.variant == "general" and _distro(catalog, o) == distro
        ]
        alternatives = tuple(
            {"release": o.release, "name": o.name, "publisher": o.publisher.name, **o.lookup} for o in same
        )
        if not alternatives:
            reasons.append(
                "OS not recognised; `imagevet recommend --cloud " + cloud.key + "` lists official images"
            )
    return Verification(
        cloud=cloud.key,
        image_id=record.image_id,
        verdict=verdict,
        publisher=publisher.name if publisher else None,
        owner=owner,
        name=record.name or None,
        distro=distro,
        version=version,
        created=record.created,
        age_days=age,
        deprecated=deprecated,
        newer_official=newer,
        alternatives=alternatives,
        reasons=tuple(reasons),
    )
