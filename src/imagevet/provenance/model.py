"""What a cloud says about an image, and the verdict imagevet reaches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

OFFICIAL, UNOFFICIAL, UNKNOWN = "official", "unofficial", "unknown"


@dataclass(frozen=True)
class ImageRecord:
    """An image as the cloud's API describes it. ``owners`` are every identity the API gives for who
    published it (AWS: owner account id and alias; Azure: publisher; GCP: project; Alibaba: owner alias;
    Tencent: image type), strongest first."""

    image_id: str
    owners: tuple[str, ...]
    name: str
    description: str = ""
    os_distro: str = ""
    os_version: str = ""
    created: dt.datetime | None = None
    deprecated: bool = False
    deprecation_time: dt.datetime | None = None
    family: str = ""


@dataclass(frozen=True)
class Lookup:
    """The outcome of asking the cloud: the record, or why there is none (no credentials, not found …)."""

    record: ImageRecord | None
    reason: str = ""
    newer: ImageRecord | None = None


@dataclass(frozen=True)
class Verification:
    cloud: str
    image_id: str
    verdict: str
    publisher: str | None
    owner: str | None
    name: str | None
    distro: str | None
    version: str | None
    created: dt.datetime | None
    age_days: int | None
    deprecated: bool
    newer_official: str | None
    alternatives: tuple[dict[str, str], ...] = ()
    reasons: tuple[str, ...] = field(default=())

    def gate_fails(self) -> bool:
        """An unofficial or deprecated image fails the gate (exit 1); unknown is the CLI's exit 2."""
        return self.verdict == UNOFFICIAL or (self.verdict == OFFICIAL and self.deprecated)
