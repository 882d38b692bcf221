"""AWS through boto3 (extra ``aws``): EC2 DescribeImages. Credentials and region come from boto3's
usual chain; ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_EC2``) points it elsewhere, as botocore does."""

from __future__ import annotations

import datetime as dt
from typing import Any

from imagevet.provenance.adapters import MissingExtraError
from imagevet.provenance.ids import ImageRef
from imagevet.provenance.model import ImageRecord, Lookup

DEFAULT_REGION = "us-east-1"
REASONS = {
    "InvalidAMIID.NotFound": "not found",
    "InvalidAMIID.Unavailable": "not found",
    "InvalidAMIID.Malformed": "not a valid AMI id",
    "UnauthorizedOperation": "access denied",
    "AuthFailure": "access denied (credentials rejected)",
    "RequestExpired": "access denied (request expired: check the clock)",
}


def _timestamp(value: Any) -> dt.datetime | None:
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def record_from(image: dict[str, Any]) -> ImageRecord:
    owners = tuple(o for o in (image.get("OwnerId"), image.get("ImageOwnerAlias")) if o)
    return ImageRecord(
        image_id=str(image["ImageId"]),
        owners=owners,
        name=str(image.get("Name", "")),
        description=str(image.get("Description", "")),
        created=_timestamp(image.get("CreationDate")),
        deprecation_time=_timestamp(image.get("DeprecationTime")),
    )


class AwsAdapter:
    def __init__(self, region: str | None) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise MissingExtraError("verify on aws needs boto3: pip install 'imagevet[aws]'") from exc
        session = boto3.session.Session(region_name=region)
        config = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"})
        self.region = session.region_name or DEFAULT_REGION
        self.client = session.client("ec2", region_name=self.region, config=config)

    def _call(self, **kwargs: Any) -> tuple[list[dict[str, Any]], str]:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            response = self.client.describe_images(**kwargs)
        except NoCredentialsError:
            return [], "no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            return [], REASONS.get(code, f"AWS refused the request ({code or exc})")
        except BotoCoreError as exc:
            return [], f"cannot reach the EC2 API in {self.region}: {exc}"
        return list(response.get("Images", [])), ""

    def describe(self, ref: ImageRef) -> Lookup:
        images, reason = self._call(ImageIds=[ref.image_id])
        if reason:
            return Lookup(None, f"{ref.image_id}: {reason}")
        if not images:
            return Lookup(None, f"{ref.image_id}: not found in {self.region}")
        return Lookup(record_from(images[0]))

    def newest(self, record: ImageRecord, pattern: dict[str, str]) -> ImageRecord | None:
        if "name" not in pattern or not record.owners:
            return None
        images, reason = self._call(
            Owners=[record.owners[0]], Filters=[{"Name": "name", "Values": [pattern["name"]]}]
        )
        if reason or not images:
            return None
        newest = max(images, key=lambda image: str(image.get("CreationDate", "")))
        return record_from(newest)
