"""Alibaba Cloud through its official SDK (extra ``alibaba``: alibabacloud-ecs20140526): ECS
DescribeImages. Credentials: ``ALIBABA_CLOUD_ACCESS_KEY_ID``/``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` (and
``ALIBABA_CLOUD_SECURITY_TOKEN`` for STS). ``IMAGEVET_ALIBABA_ENDPOINT`` (``scheme://host:port``) replaces
``ecs.REGION.aliyuncs.com``, for private endpoints and tests."""

from __future__ import annotations

import os
import re
from typing import Any

from imagevet.provenance.adapters import MissingExtraError, describe_first, newest_of, parse_timestamp
from imagevet.provenance.ids import ImageRef
from imagevet.provenance.model import ImageRecord, Lookup

DEFAULT_REGION = "cn-hangzhou"
REASONS = {
    "InvalidImageId.NotFound": "not found",
    "InvalidImageId.Malformed": "not a valid image id",
    "InvalidAccessKeyId.NotFound": "access denied (unknown AccessKey)",
    "SignatureDoesNotMatch": "access denied (signature rejected: check the AccessKey secret)",
    "Forbidden.RAM": "access denied",
    "Forbidden": "access denied",
}


def _version(os_name: str) -> str:
    """ "Ubuntu  22.04 64 bit" -> "22.04" (the first dotted number; the word size is not the version)."""
    found = re.search(r"\b(\d+\.\d+(?:\.\d+)?)\b", os_name)
    return found.group(1) if found else ""


def record_from(image: Any) -> ImageRecord:
    owners = tuple(o for o in (image.image_owner_alias, str(image.image_owner_id or "")) if o)
    return ImageRecord(
        image_id=str(image.image_id),
        owners=owners,
        name=str(image.image_name or ""),
        description=str(image.description or ""),
        os_distro=str(image.platform or ""),
        os_version=_version(str(image.osname_en or "")),
        created=parse_timestamp(image.creation_time),
        deprecated=str(image.status or "") == "Deprecated",
        family=str(image.image_family or ""),
    )


class AlibabaAdapter:
    def __init__(self, region: str | None) -> None:
        try:
            from alibabacloud_ecs20140526.client import Client
            from alibabacloud_tea_openapi.utils_models import Config
        except ImportError as exc:
            raise MissingExtraError(
                "verify on alibaba needs its SDK: pip install 'imagevet[alibaba]'"
            ) from exc
        self.region = region or os.environ.get("ALIBABA_CLOUD_REGION_ID") or DEFAULT_REGION
        self.client = None
        key = os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID")
        secret = os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        if not key or not secret:
            self.reason = "no Alibaba Cloud credentials (set ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET)"
            return
        self.reason = ""
        override = os.environ.get("IMAGEVET_ALIBABA_ENDPOINT")
        scheme, _, host = (override or "").partition("://")
        config = Config(
            access_key_id=key,
            access_key_secret=secret,
            security_token=os.environ.get("ALIBABA_CLOUD_SECURITY_TOKEN"),
            region_id=self.region,
            endpoint=host if override else f"ecs.{self.region}.aliyuncs.com",
            protocol=scheme if override else "https",
            connect_timeout=5000,
            read_timeout=20000,
        )
        self.client = Client(config)

    def _images(self, **query: Any) -> tuple[list[Any], str]:
        from alibabacloud_ecs20140526 import models
        from darabonba.exceptions import DaraException, UnretryableException

        if self.client is None:
            return [], self.reason
        try:
            response = self.client.describe_images(
                models.DescribeImagesRequest(region_id=self.region, **query)
            )
        except UnretryableException as exc:
            return [], f"cannot reach the ECS API in {self.region}: {exc}"
        except DaraException as exc:
            code = str(getattr(exc, "code", "") or "")
            return [], REASONS.get(
                code, f"Alibaba Cloud refused the request ({code}: {getattr(exc, 'message', exc)})"
            )
        except OSError as exc:
            return [], f"cannot reach the ECS API in {self.region}: {exc}"
        images = response.body.images.image if response.body and response.body.images else []
        return list(images or []), ""

    def describe(self, ref: ImageRef) -> Lookup:
        images, reason = self._images(image_id=ref.image_id, show_expired=True)
        return describe_first(ref, ([record_from(i) for i in images], reason), self.region)

    def newest(self, record: ImageRecord, pattern: dict[str, str]) -> ImageRecord | None:
        if "family" not in pattern:
            return None
        images, reason = self._images(
            image_family=pattern["family"], image_owner_alias="system", page_size=100
        )
        return None if reason else newest_of([record_from(i) for i in images])
