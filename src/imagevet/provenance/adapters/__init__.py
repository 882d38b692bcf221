"""One adapter per cloud, each importing its SDK lazily (an optional extra): they describe images and
find the newest official build of a release, nothing more."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from imagevet.errors import ImagevetError
from imagevet.model import CLOUDS
from imagevet.provenance.ids import ImageRef
from imagevet.provenance.model import ImageRecord, Lookup


class CloudAdapter(Protocol):
    def describe(self, ref: ImageRef) -> Lookup:
        """The image's record, or a Lookup without one and the reason (no credentials, not found …)."""
        ...

    def newest(self, record: ImageRecord, pattern: dict[str, str]) -> ImageRecord | None:
        """The newest image by the same owner matching the release's catalog lookup (name pattern,
        family …), or None when the cloud cannot say."""
        ...


def parse_timestamp(value: object) -> dt.datetime | None:
    """An API timestamp (ISO 8601, ``Z`` or offset, or already a datetime) as an aware datetime; naive
    values are UTC, as every one of these APIs documents. Unparseable values are None, not errors."""
    if not value:
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def describe_first(ref: ImageRef, found: tuple[list[ImageRecord], str], where: str) -> Lookup:
    """The Lookup for an id query: the first record, or why there is none."""
    records, reason = found
    if reason:
        return Lookup(None, f"{ref.image_id}: {reason}")
    if not records:
        return Lookup(None, f"{ref.image_id}: not found in {where}")
    return Lookup(records[0])


def newest_of(records: list[ImageRecord]) -> ImageRecord | None:
    """The most recently created record (records without a date count as oldest)."""
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    return max(records, key=lambda r: r.created or oldest) if records else None


class MissingExtraError(ImagevetError):
    """The cloud's SDK is not installed."""


def adapter_for(cloud: str, region: str | None) -> CloudAdapter:
    if cloud == "aws":
        from imagevet.provenance.adapters.aws import AwsAdapter

        return AwsAdapter(region)
    if cloud == "tencent":
        from imagevet.provenance.adapters.tencent import TencentAdapter

        return TencentAdapter(region)
    if cloud == "alibaba":
        from imagevet.provenance.adapters.alibaba import AlibabaAdapter

        return AlibabaAdapter(region)
    if cloud == "gcp":
        from imagevet.provenance.adapters.gcp import GcpAdapter

        return GcpAdapter(region)
    if cloud == "azure":
        from imagevet.provenance.adapters.azure import AzureAdapter

        return AzureAdapter(region)
    raise ImagevetError(f"unknown cloud {cloud!r} (choose from: {', '.join(CLOUDS)})")
