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
from imagevet.provenance.model import OFFICIAL, UNKNOWN, ImageRecord, Lookup, Verification


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

    Public images are the hard case. The EBS direct APIs cannot read public snapshots, so an official
    public AMI is audited through a copy in the user's account, which that account owns: by its owner the
    copy is unofficial. AWS records an image's source (SourceImageId) for CopyImage, but also for
    CreateImage (from a running, changeable instance; it then records SourceInstanceId too) and for
    CreateRestoreImageTask (from an object in the user's bucket), and nothing in the image tells a copy
    from a restore. So a recorded source that is official makes the verdict undecided (an error, which
    a waiver for this image can accept), never official: the copy's bytes are not proven the original's.
    The original is looked up once, so the message can say what it is."""
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
    if found.verdict != OFFICIAL:
        return dataclasses.replace(
            own, reasons=(*own.reasons, f"its recorded source {original} is {found.verdict}")
        )
    copy = (
        f"AWS records {original} in {region} ({found.publisher}, official) as its source, but records a "
        "restored image (CreateRestoreImageTask) the same way as a copy: the bytes are not proven the "
        "original's; if you made this copy with CopyImage, waive source-official for it"
    )
    return dataclasses.replace(own, verdict=UNKNOWN, reasons=(copy,))
