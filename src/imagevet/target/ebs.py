"""An AMI's root EBS snapshot read through the EBS direct APIs (``ami:ami-…``), without launching anything.

One ``ec2:DescribeImages`` names the AMI's root device and its snapshot; ``ebs:ListSnapshotBlocks`` (paged)
lists the blocks that hold data, each with a block token; ``ebs:GetSnapshotBlock`` fetches one 512 KiB block
(``BlockSize 524288`` in the EBS direct APIs' documentation), verified against its SHA256 checksum. Blocks
that were never written are not listed and read as zeros. Credentials, region and endpoints come from
boto3's usual chain (``AWS_PROFILE``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_EC2``,
``AWS_ENDPOINT_URL_EBS``: botocore reads them itself); the CLI passes ``--region`` or ``AWS_REGION``.
Every failure is one line naming the IAM action that was refused or the API that failed, never the text
of an unexpected error.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
from typing import Any

from imagevet.errors import TargetError
from imagevet.target.blocks import FETCH_THREADS, BlockSource, RemoteOptions
from imagevet.target.ebs_api import MAX_ATTEMPTS, Api

BLOCK_SIZE = 524288  # the EBS direct APIs' only block size
MOTO_BLOCK_SIZE = 512  # moto 5.2 reports BlockSize 512 for the same 512 KiB blocks (its unit slip)
GIB = 1 << 30
MAX_VOLUME_GIB = 65536  # EBS volumes and snapshots are at most 64 TiB
MAX_LISTED_BLOCKS = 1 << 19  # 256 GiB of written data: the block tokens alone stay under ~80 MB
MAX_RESULTS = 10000
EXTRAS = "AMIs need the aws and disk extras: pip install 'imagevet[aws,disk]'"

_AMI_ID = re.compile(r"ami-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_SNAPSHOT_ID = re.compile(r"snap-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")


def open_ami_source(reference: str, options: RemoteOptions) -> tuple[BlockSource, dict[str, str]]:
    """The BlockSource of the AMI's root snapshot, and what DescribeImages said of the AMI."""
    if not _AMI_ID.fullmatch(reference):
        raise TargetError("ami: target is not an AMI id (ami- and 8 or 17 lowercase hexadecimal digits)")
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise TargetError(EXTRAS) from exc
    if importlib.util.find_spec("dissect") is None or importlib.util.find_spec("dissect.volume") is None:
        raise TargetError(EXTRAS)
    try:
        # options.region is --region, or AWS_REGION (the other AWS SDKs' variable, read by the CLI: botocore
        # itself reads only AWS_DEFAULT_REGION and the profile)
        session = boto3.session.Session(region_name=options.region or None)
        region = session.region_name
    except Exception as exc:  # a malformed shared config file: botocore's text may quote it
        raise TargetError(f"cannot read the AWS configuration ({exc.__class__.__name__})") from exc
    if not region:
        raise TargetError("no AWS region: pass --region or set AWS_REGION")
    if not _REGION.fullmatch(region):
        raise TargetError("the AWS region is not a region name (such as us-east-1)")
    config = Config(
        connect_timeout=min(options.timeout, 10.0),
        read_timeout=options.timeout,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        max_pool_connections=FETCH_THREADS + 2,
        user_agent_extra="imagevet",
    )
    try:
        ec2 = session.client("ec2", region_name=region, config=config)
        ebs = session.client("ebs", region_name=region, config=config)
    except Exception as exc:  # an invalid endpoint URL in the environment, an unknown region partition
        raise TargetError(f"cannot set up the AWS clients ({exc.__class__.__name__})") from exc
    api = Api(ec2, ebs, region)
    try:
        image = describe(api, reference)
        root = root_mapping(reference, image)
        details = image_details(reference, image, root, region)
        source = EbsSnapshotSource.listed(
            api, reference, details["snapshot_id"], details["encrypted"] == "true"
        )
    except BaseException:
        api.close()
        raise
    details["volume_size_gib"] = str(source.size // GIB)
    return source, details


def describe(api: Api, ami_id: str) -> dict[str, Any]:
    subject = f"ami:{ami_id}"
    response = api.call(api.ec2, "describe_images", "ec2:DescribeImages", subject, ImageIds=[ami_id])
    images = [i for i in response.get("Images") or [] if isinstance(i, dict) and i.get("ImageId") == ami_id]
    if len(images) != 1:
        raise TargetError(f"{subject}: not found in {api.region} (or not visible to these credentials)")
    return images[0]


def root_mapping(ami_id: str, image: dict[str, Any]) -> dict[str, Any]:
    """The Ebs part of the mapping of the AMI's root device, which must name a snapshot."""
    subject = f"ami:{ami_id}"
    kind = image.get("RootDeviceType")
    if kind != "ebs":
        what = "an instance-store AMI" if kind == "instance-store" else "not an EBS-backed AMI"
        raise TargetError(f"{subject}: {what}: only EBS-backed AMIs can be read without launching them")
    device = image.get("RootDeviceName")
    for mapping in image.get("BlockDeviceMappings") or []:
        if isinstance(mapping, dict) and device and mapping.get("DeviceName") == device:
            ebs = mapping.get("Ebs")
            if isinstance(ebs, dict) and isinstance(ebs.get("SnapshotId"), str):
                if not _SNAPSHOT_ID.fullmatch(ebs["SnapshotId"]):
                    raise TargetError(f"{subject}: the root device's snapshot id is not a snapshot id")
                return ebs
            raise TargetError(f"{subject}: the root device has no snapshot")
    raise TargetError(f"{subject}: no block device mapping for the root device")


def _text(value: Any, limit: int = 512) -> str:
    """An API string as a report value: control characters dropped, length capped."""
    text = value if isinstance(value, str) else str(value)
    return "".join(c for c in text if c.isprintable())[:limit]


def image_details(ami_id: str, image: dict[str, Any], root: dict[str, Any], region: str) -> dict[str, str]:
    details = {
        "ami_id": ami_id,
        "snapshot_id": str(root["SnapshotId"]),
        "owner_id": _text(image.get("OwnerId", ""), 32),
        "name": _text(image.get("Name", "")),
        "creation_date": _text(image.get("CreationDate", ""), 64),
        "region": region,
        "root_device": _text(image.get("RootDeviceName", ""), 64),
        "encrypted": "true" if root.get("Encrypted") is True else "false",
    }
    optional = {
        "owner_alias": "ImageOwnerAlias",
        "description": "Description",
        "deprecation_time": "DeprecationTime",
        "platform_details": "PlatformDetails",
        # a copy (CopyImage) names its original: the EBS direct APIs cannot read public snapshots, so a
        # public image is audited through a copy in the user's account, owned by that account
        "source_image_id": "SourceImageId",
        "source_image_region": "SourceImageRegion",
        # set only by CreateImage (from a running, changeable instance): then it is no copy
        "source_instance_id": "SourceInstanceId",
    }
    for key, field in optional.items():
        if image.get(field):
            details[key] = _text(image[field])
    return details


class EbsSnapshotSource:
    """The blocks of one completed EBS snapshot (see the module docstring). Thread-safe: ``fetch`` only
    reads the token table and calls the (thread-safe) botocore client."""

    kind = "ebs"
    block_size = BLOCK_SIZE

    def __init__(self, api: Api, ami_id: str, snapshot_id: str, size: int, tokens: dict[int, str]) -> None:
        self.api = api
        self.ami_id = ami_id
        self.snapshot_id = snapshot_id
        self.size = size
        self.location = f"{ami_id} ({snapshot_id})"
        self._tokens = tokens

    @classmethod
    def listed(cls, api: Api, ami_id: str, snapshot_id: str, encrypted: bool) -> EbsSnapshotSource:
        """ListSnapshotBlocks, every page: the written blocks' tokens and the volume size; a listing that
        does not fit the volume it describes is refused."""
        api.encrypted = encrypted
        subject = f"snapshot {snapshot_id}"
        tokens: dict[int, str] = {}
        size = 0
        pages = 0
        token: str | None = None
        seen: set[str] = set()
        while True:
            arguments: dict[str, Any] = {"SnapshotId": snapshot_id, "MaxResults": MAX_RESULTS}
            if token is not None:
                arguments["NextToken"] = token
            page = api.call(api.ebs, "list_snapshot_blocks", "ebs:ListSnapshotBlocks", subject, **arguments)
            pages += 1
            size = cls._check_page(snapshot_id, page, size)
            count = size // BLOCK_SIZE
            last = max(tokens) if tokens else -1
            for block in page.get("Blocks") or []:
                index, block_token = block.get("BlockIndex"), block.get("BlockToken")
                if not isinstance(index, int) or not isinstance(block_token, str) or not block_token:
                    raise TargetError(f"{snapshot_id}: ListSnapshotBlocks returned a malformed block")
                if not last < index < count:
                    raise TargetError(f"{snapshot_id}: ListSnapshotBlocks listed block {index} out of order")
                tokens[index] = block_token
                last = index
            if len(tokens) > MAX_LISTED_BLOCKS:
                raise TargetError(
                    f"{snapshot_id}: more than {MAX_LISTED_BLOCKS} written blocks"
                    f" ({MAX_LISTED_BLOCKS * BLOCK_SIZE >> 30} GiB): too large to audit"
                )
            token = page.get("NextToken") or None
            if token is None:
                break
            # each page is at least 100 blocks unless the listing ends (MaxResults' minimum); a few short
            # pages are allowed, a listing that never ends is not
            if token in seen or pages > min(count, MAX_LISTED_BLOCKS) // 100 + 16:
                raise TargetError(f"{snapshot_id}: ListSnapshotBlocks does not end ({pages} pages)")
            seen.add(token)
        return cls(api, ami_id, snapshot_id, size, tokens)

    @staticmethod
    def _check_page(snapshot_id: str, page: dict[str, Any], size: int) -> int:
        reported = page.get("BlockSize")
        if reported not in (BLOCK_SIZE, MOTO_BLOCK_SIZE):
            shown = reported if isinstance(reported, int) else "no"
            raise TargetError(
                f"{snapshot_id}: the snapshot reports {shown} bytes per block, not {BLOCK_SIZE}"
            )
        gib = page.get("VolumeSize")
        if not isinstance(gib, int) or isinstance(gib, bool) or not 0 < gib <= MAX_VOLUME_GIB:
            raise TargetError(f"{snapshot_id}: the snapshot reports no valid volume size")
        if size and gib * GIB != size:
            raise TargetError(f"{snapshot_id}: the volume size changed between pages of its listing")
        return gib * GIB

    def cache_key(self) -> str | None:
        """Snapshots never change; the endpoint is part of the key, so blocks read from another endpoint
        (a test server, AWS_ENDPOINT_URL_EBS pointed elsewhere) never serve a real snapshot's audit."""
        endpoint = getattr(getattr(self.api.ebs, "meta", None), "endpoint_url", "") or ""
        return f"ebs:{endpoint}:{self.api.region}:{self.snapshot_id}"

    def allocated(self, index: int) -> bool:
        return index in self._tokens

    def fetch(self, index: int) -> bytes:
        token = self._tokens.get(index)
        if token is None:
            raise TargetError(f"{self.snapshot_id}: block {index} is not in the snapshot")
        response = self.api.call(
            self.api.ebs,
            "get_snapshot_block",
            "ebs:GetSnapshotBlock",
            f"snapshot {self.snapshot_id}",
            SnapshotId=self.snapshot_id,
            BlockIndex=index,
            BlockToken=token,
        )
        length = response.get("DataLength")
        body = response.get("BlockData")
        try:
            if length != BLOCK_SIZE:
                raise TargetError(
                    f"{self.snapshot_id}: block {index} has DataLength {length}, not {BLOCK_SIZE}"
                )
            data = self._read(index, body)
        finally:
            if body is not None:
                body.close()
        if response.get("ChecksumAlgorithm") != "SHA256":
            raise TargetError(f"{self.snapshot_id}: block {index} has no SHA256 checksum")
        expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
        if response.get("Checksum") != expected:
            raise TargetError(f"{self.snapshot_id}: block {index} failed its checksum")
        return data

    def _read(self, index: int, body: Any) -> bytes:
        """The streaming body, read to its end but never past one block and a byte."""
        chunks: list[bytes] = []
        total = 0
        try:
            while total <= BLOCK_SIZE:
                chunk = body.read(BLOCK_SIZE + 1 - total)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        except Exception as exc:  # a connection cut mid-body: the class name only
            name = exc.__class__.__name__
            raise TargetError(f"{self.snapshot_id}: block {index} could not be read ({name})") from exc
        if total != BLOCK_SIZE:
            raise TargetError(f"{self.snapshot_id}: block {index} has {total} bytes, not {BLOCK_SIZE}")
        return b"".join(chunks)

    def requests(self) -> int:
        return self.api.requests()

    def close(self) -> None:
        self.api.close()
