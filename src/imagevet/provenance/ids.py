"""Native image id forms per cloud, checked before any API call so a typo is a one-line usage error."""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagevet.errors import ImagevetError

AWS_AMI = re.compile(r"ami-[0-9a-f]{8}([0-9a-f]{9})?")
TENCENT_IMAGE = re.compile(r"img-[0-9a-z]{8}")
ALIBABA_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{1,127}")
GCP_NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
AZURE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
AZURE_RESOURCE = re.compile(
    r"/subscriptions/[^/]+/providers/microsoft\.compute/locations/(?P<location>[^/]+)/publishers/(?P<publisher>[^/]+)"
    r"/artifacttypes/vmimage/offers/(?P<offer>[^/]+)/skus/(?P<sku>[^/]+)/versions/(?P<version>[^/]+)",
    re.IGNORECASE,
)
GCP_LINK = re.compile(
    r"(?:https://(?:www|compute)\.googleapis\.com/compute/(?:v1|beta)/)?projects/(?P<project>[^/]+)/global/images/"
    r"(?P<name>[^/]+)"
)


class ImageIdError(ImagevetError):
    """An image id that is not in any of the cloud's native forms."""


@dataclass(frozen=True)
class ImageRef:
    """A parsed image id; ``parts`` holds the cloud's pieces (publisher/offer/sku/version, project/name)."""

    cloud: str
    image_id: str
    parts: dict[str, str]


def parse_image_id(cloud: str, image_id: str) -> ImageRef:
    text = image_id.strip()
    if cloud == "aws" and AWS_AMI.fullmatch(text):
        return ImageRef(cloud, text, {})
    if cloud == "tencent" and TENCENT_IMAGE.fullmatch(text):
        return ImageRef(cloud, text, {})
    if cloud == "alibaba" and ALIBABA_IMAGE.fullmatch(text):
        return ImageRef(cloud, text, {})
    if cloud == "azure":
        resource = AZURE_RESOURCE.fullmatch(text)
        if resource:
            return ImageRef(cloud, text, resource.groupdict())
        pieces = text.split(":")
        if len(pieces) == 4 and all(AZURE_PART.fullmatch(p) for p in pieces):
            return ImageRef(
                cloud, text, dict(zip(("publisher", "offer", "sku", "version"), pieces, strict=True))
            )
    if cloud == "gcp":
        link = GCP_LINK.fullmatch(text)
        if link:
            return ImageRef(cloud, text, link.groupdict())
        project, slash, name = text.partition("/")
        if (
            slash
            and GCP_NAME.fullmatch(project.replace(".", "-").replace(":", "-"))
            and GCP_NAME.fullmatch(name)
        ):
            return ImageRef(cloud, text, {"project": project, "name": name})
    forms = {
        "aws": "ami-0123456789abcdef0",
        "azure": "Publisher:Offer:Sku:Version or a /Subscriptions/…/Versions/… resource id",
        "gcp": "projects/PROJECT/global/images/NAME (or its https self-link, or PROJECT/NAME)",
        "alibaba": "an image id such as ubuntu_22_04_x64_20G_alibase_20240130.vhd or m-…",
        "tencent": "img-xxxxxxxx",
    }
    if cloud not in forms:
        raise ImageIdError(f"unknown cloud {cloud!r} (choose from: {', '.join(forms)})")
    raise ImageIdError(f"{image_id!r} is not a valid {cloud} image id (expected {forms[cloud]})")
