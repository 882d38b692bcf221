"""One adapter per cloud, each importing its SDK lazily (an optional extra): they describe images and
find the newest official build of a release, nothing more."""

from __future__ import annotations

from typing import Protocol

from imagevet.errors import ImagevetError
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
    raise ImagevetError(f"unknown cloud {cloud!r} (choose from: aws, azure, alibaba, tencent, gcp)")
