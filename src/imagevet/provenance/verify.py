"""Ask the cloud, then judge: the one entry point the CLI and the audit use."""

from __future__ import annotations

import dataclasses
import datetime as dt

from imagevet.catalog.model import Catalog
from imagevet.errors import ImagevetError
from imagevet.model import TargetInfo
from imagevet.provenance.adapters import CloudAdapter, adapter_for
from imagevet.provenance.ids import parse_image_id
from imagevet.provenance.judge import judge, offering_of, publisher_of
from imagevet.provenance.model import OFFICIAL, ImageRecord, Lookup, Verification


def verify_image(
    cloud: str,
    image_id: str,
    catalog: Catalog,
    now: dt.datetime,
    region: str | None = None,
    adapter: CloudAdapter | None = None,
) -> Verification:
    ref = parse_image_id(cloud, image_id)
    if cloud not in catalog.clouds:
        raise ImagevetError(f"the catalog has no cloud {cloud!r}")
    offerings = catalog.clouds[cloud]
    adapter = adapter or adapter_for(cloud, region)
    lookup = adapter.describe(ref)
    record = lookup.record
    if record is not None and publisher_of(offerings, record.owners):
        offering = offering_of(offerings, ref, record)
        if offering is not None:
            lookup = Lookup(record, lookup.reason, adapter.newest(record, offering.lookup))
    return judge(offerings, catalog, ref, lookup, now)


def verify_described(cloud: str, record: ImageRecord, catalog: Catalog, now: dt.datetime) -> Verification:
    """Judge an image the target has already described (an ``ami:`` target's DescribeImages answer):
    the same verdict as verify_image, without asking the cloud again, so without the newer-image lookup."""
    ref = parse_image_id(cloud, record.image_id)
    if cloud not in catalog.clouds:
        raise ImagevetError(f"the catalog has no cloud {cloud!r}")
    return judge(catalog.clouds[cloud], catalog, ref, Lookup(record), now)


def verify_target(
    info: TargetInfo, catalog: Catalog, now: dt.datetime, adapter: CloudAdapter | None = None
) -> Verification | None:
    """The source-official verdict of an ``ami:`` target, from the DescribeImages answer it was opened
    with (target/ebs.py), without asking again; None for every other kind of target.

    One exception needs a second question. The EBS direct APIs cannot read public snapshots, so a public
    image (an official Ubuntu AMI) is audited through a copy in the user's account, which that account
    owns. AWS records a copy's original (SourceImageId, SourceImageRegion; set by AWS, not by the caller);
    the copy is judged by its original, asked for once. CreateImage also sets SourceImageId, but from a
    running instance that may have been changed (SourceInstanceId says so): that image is the user's own."""
    if info.source is None or info.source.kind != "ebs":
        return None
    from imagevet.provenance.adapters.aws import record_from_details

    details = dict(info.source.details)
    record = record_from_details(details)
    own = verify_described("aws", record, catalog, now)
    original = details.get("source_image_id")
    if own.verdict == OFFICIAL or not original:
        return own
    if details.get("source_instance_id"):
        reason = f"made from instance {details['source_instance_id']} of {original} (CreateImage), not a copy"
        return dataclasses.replace(own, reasons=(*own.reasons, reason))
    region = details.get("source_image_region") or details.get("region")
    found = verify_image("aws", original, catalog, now, region, adapter)
    copy = f"a copy (CopyImage) of {original} in {region}, judged by its original"
    return dataclasses.replace(found, image_id=record.image_id, reasons=(copy, *found.reasons))
