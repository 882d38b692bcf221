"""Tencent Cloud through its official SDK (extra ``tencent``: tencentcloud-sdk-python-cvm): CVM
DescribeImages. Credentials: ``TENCENTCLOUD_SECRET_ID``/``TENCENTCLOUD_SECRET_KEY`` or the SDK's profile
file (~/.tencentcloud/credentials). ``IMAGEVET_TENCENT_ENDPOINT`` (``scheme://host:port``) replaces the
regional endpoint, for private endpoints and tests; the SDK has no standard variable for it."""

from __future__ import annotations

import fnmatch
import os
from typing import Any

from imagevet.provenance.adapters import MissingExtraError, describe_first, newest_of, parse_timestamp
from imagevet.provenance.ids import ImageRef
from imagevet.provenance.model import ImageRecord, Lookup

DEFAULT_REGION = "ap-guangzhou"
REASONS = {
    "InvalidImageId.NotFound": "not found",
    "InvalidImageId.Malformed": "not a valid image id",
    "AuthFailure.SecretIdNotFound": "access denied (unknown SecretId)",
    "AuthFailure.SignatureFailure": "access denied (signature rejected: check the SecretKey)",
    "AuthFailure.UnauthorizedOperation": "access denied",
    "UnauthorizedOperation": "access denied",
}


def record_from(image: Any) -> ImageRecord:
    owners = tuple(o for o in (image.ImageType, image.ImageCreator) if o)
    return ImageRecord(
        image_id=str(image.ImageId),
        owners=owners,
        name=str(image.ImageName or ""),
        description=str(image.ImageDescription or ""),
        os_distro=str(image.Platform or ""),
        created=parse_timestamp(image.CreatedTime),
        deprecated=bool(getattr(image, "ImageDeprecated", False)),
        family=str(getattr(image, "ImageFamily", "") or ""),
    )


class TencentAdapter:
    def __init__(self, region: str | None) -> None:
        try:
            from tencentcloud.common import credential
            from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
            from tencentcloud.cvm.v20170312 import cvm_client
        except ImportError as exc:
            raise MissingExtraError(
                "verify on tencent needs its SDK: pip install 'imagevet[tencent]'"
            ) from exc
        self.region = region or os.environ.get("TENCENTCLOUD_REGION") or DEFAULT_REGION
        self.error = TencentCloudSDKException
        self.client = None
        self.reason = ""
        cred = None
        for provider in (credential.EnvironmentVariableCredential(), credential.ProfileCredential()):
            try:
                cred = provider.get_credential()
            except TencentCloudSDKException:
                cred = None
            if cred is not None and cred.secret_id:
                break
            cred = None
        if cred is None:
            self.reason = (
                "no Tencent Cloud credentials (set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY)"
            )
            return
        http = HttpProfile(reqTimeout=20)
        override = os.environ.get("IMAGEVET_TENCENT_ENDPOINT")
        if override:
            scheme, _, host = override.partition("://")
            http = HttpProfile(protocol=scheme, endpoint=host, reqTimeout=20)
        self.client = cvm_client.CvmClient(cred, self.region, ClientProfile(httpProfile=http))

    def _images(self, body: dict[str, Any]) -> tuple[list[Any], str]:
        from tencentcloud.cvm.v20170312 import models

        if self.client is None:
            return [], self.reason
        request = models.DescribeImagesRequest()
        request._deserialize(body)
        try:
            response = self.client.DescribeImages(request)
        except self.error as exc:
            code = str(exc.code or "")
            if code.startswith("ClientNetworkError") or "Connection" in str(exc.message):
                return [], f"cannot reach the CVM API in {self.region}: {exc.message}"
            return [], REASONS.get(code, f"Tencent Cloud refused the request ({code}: {exc.message})")
        return list(response.ImageSet or []), ""

    def describe(self, ref: ImageRef) -> Lookup:
        images, reason = self._images({"ImageIds": [ref.image_id]})
        return describe_first(ref, ([record_from(i) for i in images], reason), self.region)

    def newest(self, record: ImageRecord, pattern: dict[str, str]) -> ImageRecord | None:
        if "name" not in pattern:
            return None
        filters = [{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}]
        if "platform" in pattern:
            filters.append({"Name": "platform", "Values": [pattern["platform"]]})
        images, reason = self._images({"Filters": filters, "Limit": 100})
        matching = [
            record_from(i) for i in images if fnmatch.fnmatchcase(str(i.ImageName or ""), pattern["name"])
        ]
        return None if reason else newest_of(matching)
