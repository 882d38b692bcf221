"""AWS through boto3 (extra ``aws``): EC2 DescribeImages. Credentials and region come from boto3's
usual chain; ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_EC2``) points it elsewhere, as botocore does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from imagevet.provenance.adapters import MissingExtraError, describe_first, newest_of, parse_timestamp
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


def record_from(image: dict[str, Any]) -> ImageRecord:
    owners = tuple(o for o in (image.get("OwnerId"), image.get("ImageOwnerAlias")) if o)
    return ImageRecord(
        image_id=str(image["ImageId"]),
        owners=owners,
        name=str(image.get("Name", "")),
        description=str(image.get("Description", "")),
        created=parse_timestamp(image.get("CreationDate")),
        deprecation_time=parse_timestamp(image.get("DeprecationTime")),
    )


def record_from_details(details: Mapping[str, str]) -> ImageRecord:
    """The record of an AMI that an ``ami:`` target described when it was opened (target/ebs.py keys)."""
    return record_from(
        {
            "ImageId": details.get("ami_id", ""),
            "OwnerId": details.get("owner_id"),
            "ImageOwnerAlias": details.get("owner_alias"),
            "Name": details.get("name", ""),
            "Description": details.get("description", ""),
            "CreationDate": details.get("creation_date"),
            "DeprecationTime": details.get("deprecation_time"),
        }
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
        return describe_first(ref, ([record_from(i) for i in images], reason), self.region)

    def newest(self, record: ImageRecord, pattern: dict[str, str]) -> ImageRecord | None:
        if "name" not in pattern or not record.owners:
            return None
        images, reason = self._call(
            Owners=[record.owners[0]], Filters=[{"Name": "name", "Values": [pattern["name"]]}]
        )
        return None if reason else newest_of([record_from(i) for i in images])
