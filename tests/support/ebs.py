"""AMIs backed by real EBS snapshots in moto's server, for the ``ami:`` target (tests/target/test_ebs*.py).

moto 5.2.5 has the EBS direct APIs (StartSnapshot, PutSnapshotBlock, CompleteSnapshot, ListSnapshotBlocks,
GetSnapshotBlock) and multi-account credentials (STS AssumeRole into ``arn:aws:iam::<ACCOUNT>:role/x``
returns keys that act as that account), but two things an AMI audit needs are not AWS-shaped, so the server
runs with ``MOTO_PATCH`` (tests/support/moto.py ``start_moto_patched``):

- RegisterImage ignores RootDeviceName and BlockDeviceMappings: moto reports ``/dev/sda1``, RootDeviceType
  ``standard`` (AWS: ``ebs`` or ``instance-store``) and a 15 GiB snapshot of its own making, which the EBS
  backend never saw. Patched: when a mapping is given, the AMI reports exactly it, with RootDeviceType
  ``ebs``, as AWS does for an AMI registered from a snapshot.
- ListSnapshotBlocks and GetSnapshotBlock on a snapshot the EBS backend does not know raise KeyError, an
  HTML HTTP 500 (retried by botocore). AWS documents ResourceNotFoundException (HTTP 404, Reason
  SNAPSHOT_NOT_FOUND). Patched to that, unless IMAGEVET_TEST_EBS_RAW_MISSING=1 keeps moto's 500.

Everything else is moto's own: checksums and DataLength are stored at face value (so a wrong one can be
uploaded), BlockSize is reported as 512 (moto's unit slip: the blocks are 512 KiB), nothing paginates.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.moto import aws_environment, start_moto_patched

BLOCK = 524288
GIB = 1 << 30
CANONICAL = "099720109477"  # catalog/data/images/aws.yaml: publisher canonical
LOOKALIKE = "099720109478"
UBUNTU_NAME = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261120"

MOTO_PATCH = """
import os
from moto.core.exceptions import ServiceException
from moto.ebs import models as ebs_models
from moto.ec2.models import amis as ec2_amis
from moto.ec2.responses.amis import AmisResponse
from moto.core.responses import ActionResult

_plain_mappings = ec2_amis.Ami.block_device_mappings


def _mappings(self):
    given = getattr(self, "_imagevet_mappings", None)
    return _plain_mappings.fget(self) if given is None else given


ec2_amis.Ami.block_device_mappings = property(_mappings)


def register_image(self):
    name = self._get_param("Name")
    description = self._get_param("Description", "")
    self.error_on_dryrun()
    image = self.ec2_backend.register_image(name, description)
    mappings = self._get_param("BlockDeviceMappings")
    if mappings:
        image._imagevet_mappings = mappings
        image.root_device_name = self._get_param("RootDeviceName")
        image.root_device_type = "ebs"
        image.architecture = self._get_param("Architecture")
        image.virtualization_type = self._get_param("VirtualizationType")
    return ActionResult({"ImageId": image.id})


AmisResponse.register_image = register_image


class ResourceNotFoundException(ServiceException):
    code = "ResourceNotFoundException"

    def __init__(self, snapshot_id):
        super().__init__(f"The snapshot '{snapshot_id}' does not exist.")
        self.Reason = "SNAPSHOT_NOT_FOUND"


def _known(method):
    def wrapper(self, snapshot_id, *args, **kwargs):
        if snapshot_id not in self.snapshots and os.environ.get("IMAGEVET_TEST_EBS_RAW_MISSING") != "1":
            raise ResourceNotFoundException(snapshot_id)
        return method(self, snapshot_id, *args, **kwargs)

    return wrapper


ebs_models.EBSBackend.list_snapshot_blocks = _known(ebs_models.EBSBackend.list_snapshot_blocks)
ebs_models.EBSBackend.get_snapshot_block = _known(ebs_models.EBSBackend.get_snapshot_block)
"""


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None

    def environment(self) -> dict[str, str]:
        """The variables boto3 reads them from (a CLI subprocess, monkeypatch.setenv)."""
        out = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        if self.token:
            out["AWS_SESSION_TOKEN"] = self.token
        return out

    def session(self, region: str = "us-east-1") -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            aws_session_token=self.token,
            region_name=region,
        )


def account_credentials(account: str) -> Credentials:
    """Credentials acting as ``account`` (12 digits) in moto: STS AssumeRole into a role of that account.
    boto3 must already point at moto (``aws_environment``)."""
    assumed = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/x", RoleSessionName="imagevet-test"
    )["Credentials"]
    return Credentials(assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"])


def checksum(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def upload_snapshot(
    session: boto3.session.Session,
    disk: Path,
    bad_checksum: set[int] | None = None,
    bad_length: set[int] | None = None,
) -> tuple[str, int, list[int]]:
    """Upload a raw disk file as an EBS snapshot through the EBS direct APIs: VolumeSize the file's size
    rounded up to whole GiB, one PutSnapshotBlock per non-zero 512 KiB block (all-zero blocks are left
    unwritten, as AWS leaves them, so reading them exercises unallocated blocks). ``bad_checksum`` and
    ``bad_length`` blocks are uploaded with a wrong Checksum or DataLength (moto stores them at face value).
    Returns the snapshot id, the volume size in GiB and the written block indexes."""
    ebs = session.client("ebs")
    size = disk.stat().st_size
    gib = max(1, -(-size // GIB))
    snapshot = ebs.start_snapshot(VolumeSize=gib, Description="imagevet test upload")["SnapshotId"]
    written = []
    with disk.open("rb") as handle:
        index = 0
        while block := handle.read(BLOCK):
            block = block.ljust(BLOCK, b"\0")
            if block.count(0) != BLOCK:
                digest = checksum(block[::-1] if index in (bad_checksum or set()) else block)
                ebs.put_snapshot_block(
                    SnapshotId=snapshot,
                    BlockIndex=index,
                    BlockData=block,
                    DataLength=BLOCK // 2 if index in (bad_length or set()) else BLOCK,
                    Checksum=digest,
                    ChecksumAlgorithm="SHA256",
                )
                written.append(index)
            index += 1
    ebs.complete_snapshot(SnapshotId=snapshot, ChangedBlocksCount=len(written))
    return snapshot, gib, written


def register_ami(
    session: boto3.session.Session,
    snapshot: str | None,
    name: str = UBUNTU_NAME,
    encrypted: bool = False,
    volume_gib: int = 8,
    device: str = "/dev/xvda",
) -> str:
    """RegisterImage of an EBS-backed AMI whose root device (/dev/xvda) is ``snapshot``; with ``snapshot``
    None the root mapping has no snapshot (only a volume size)."""
    ebs: dict[str, Any] = {
        "VolumeSize": volume_gib,
        "VolumeType": "gp3",
        "DeleteOnTermination": True,
        "Encrypted": encrypted,
    }
    if snapshot is not None:
        ebs["SnapshotId"] = snapshot
    response = session.client("ec2").register_image(
        Name=name,
        Description="Canonical, Ubuntu, 24.04, amd64 noble image",
        Architecture="x86_64",
        VirtualizationType="hvm",
        RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": device, "Ebs": ebs}],
    )
    return str(response["ImageId"])


def denied_user(session: boto3.session.Session, allow: list[str]) -> Credentials:
    """An IAM user of the session's account whose only policy allows ``allow`` (actions) on everything."""
    iam = session.client("iam")
    user = f"imagevet-{'-'.join(a.replace(':', '_') for a in allow)}"[:60]
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user,
        PolicyName="only",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": allow, "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"])


@contextmanager
def moto_acting_as(
    folder: Path,
    account: str | None = CANONICAL,
    amis: list[dict[str, Any]] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, Credentials | None]]:
    """moto's patched server (MOTO_PATCH), with boto3 in this process pointed at it (aws_environment)
    and, unless ``account`` is None, acting as that account (its credentials in the environment); yields
    the endpoint and those credentials. Everything is undone on the way out."""
    with (
        start_moto_patched(folder, amis or [], MOTO_PATCH, env) as endpoint,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.delenv("AWS_SESSION_TOKEN", raising=False)
        for key, value in aws_environment(endpoint, folder).items():
            mp.setenv(key, value)
        credentials = None if account is None else account_credentials(account)
        for key, value in (credentials.environment() if credentials else {}).items():
            mp.setenv(key, value)
        yield endpoint, credentials
