"""Ask the cloud, then judge: the one entry point the CLI and the audit use."""

from __future__ import annotations

import datetime as dt

from imagevet.catalog.model import Catalog
from imagevet.errors import ImagevetError
from imagevet.model import TargetInfo
from imagevet.provenance.adapters import CloudAdapter, adapter_for
from imagevet.provenance.ids import parse_image_id
from imagevet.provenance.judge import judge, offering_of, publisher_of
from imagevet.provenance.model import ImageRecord, Lookup, Verification


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


def verify_target(info: TargetInfo, catalog: Catalog, now: dt.datetime) -> Verification | None:
    """The source-official verdict of an ``ami:`` target, from the DescribeImages answer it was opened
    with (target/ebs.py); None for every other kind of target."""
    if info.source is None or info.source.kind != "ebs":
        return None
    from imagevet.provenance.adapters.aws import record_from_details

    return verify_described("aws", record_from_details(dict(info.source.details)), catalog, now)
