"""The ``ami:`` block source (target/ebs.py) against moto's server (tests/support/ebs.py says what moto does
and where it is patched to answer as AWS documents) and, for what moto cannot say (pages, an EBS access
denial with its Reason, throttling), against botocore's Stubber with AWS-shaped answers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff
from botocore.stub import Stubber

from imagevet.errors import TargetError
from imagevet.target.blocks import BlockStream, RemoteOptions
from imagevet.target.ebs import BLOCK_SIZE, Api, EbsSnapshotSource, image_details, open_ami_source
from tests.support.ebs import (
    BLOCK,
    CANONICAL,
    GIB,
    Credentials,
    account_credentials,
    denied_user,
    moto_acting_as,
    register_ami,
    upload_snapshot,
)
from tests.support.moto import enforce_iam, free_port

pytestmark = pytest.mark.real
REGION = RemoteOptions(region="us-east-1", timeout=10)
INSTANCE_STORE = "ami-0badc0ffee0000001"
SEEDED = [
    {
        "ami_id": INSTANCE_STORE,
        "name": "ubuntu/images/hvm-instance/ubuntu-trusty-14.04-amd64-server-20190514",
        "owner_id": CANONICAL,
        "root_device_type": "instance-store",
        "root_device_name": "/dev/sda1",
        "virtualization_type": "hvm",
        "architecture": "x86_64",
    }
]


def sample_disk(path: Path) -> bytes:
    """16 MiB: written blocks, all-zero blocks (left unwritten), a half-zero block, a short tail."""
    rng = random.Random(17)
    parts = []
    for index in range(32):
        if index in (2, 4, 5, 9, 20, 21, 22):
            parts.append(bytes(BLOCK))
        elif index == 7:
            parts.append(rng.randbytes(BLOCK // 2) + bytes(BLOCK // 2))
        else:
            parts.append(rng.randbytes(BLOCK))
    data = b"".join(parts) + rng.randbytes(1000)
    path.write_bytes(data)
    return data


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """moto (patched) with a Canonical-account AMI over an uploaded disk; boto3 pointed at it and acting
    as the Canonical account for the whole module."""
    folder = tmp_path_factory.mktemp("moto-ebs")
    with moto_acting_as(folder, CANONICAL, SEEDED) as (endpoint, canonical):
        assert canonical is not None
        session = canonical.session()
        data = sample_disk(folder / "disk.raw")
        snapshot, gib, written = upload_snapshot(session, folder / "disk.raw")
        ami = register_ami(session, snapshot)
        yield {
            "endpoint": endpoint,
            "folder": folder,
            "session": session,
            "data": data,
            "snapshot": snapshot,
            "gib": gib,
            "written": written,
            "ami": ami,
        }


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard retries still happen (and are counted), without their sleeps."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


def refusal(spec: str, options: RemoteOptions = REGION) -> str:
    with pytest.raises(TargetError) as caught:
        source, _ = open_ami_source(spec, options)
        source.close()
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_blocks_round_trip(aws: dict[str, Any]) -> None:
    source, details = open_ami_source(aws["ami"], REGION)
    stream = BlockStream(source)
    try:
        assert source.size == aws["gib"] * GIB == 1 << 30
        assert source.block_size == BLOCK_SIZE
        assert source.location == f"{aws['ami']} ({aws['snapshot']})"
        assert source.cache_key() == f"ebs:{aws['endpoint']}:us-east-1:{aws['snapshot']}"  # endpoint too
        assert [i for i in range(64) if source.allocated(i)] == aws["written"]
        assert 2 not in aws["written"] and 7 in aws["written"]
        local = aws["data"]
        rng = random.Random(5)
        offsets = [0, BLOCK - 10, 2 * BLOCK, 7 * BLOCK + BLOCK // 2 - 3, len(local) - 500, 200 << 20]
        offsets += [rng.randrange(0, len(local)) for _ in range(40)]
        for offset in offsets:
            size = rng.choice([1, 511, 4096, BLOCK + 7, 3 * BLOCK])
            expected = local[offset : offset + size].ljust(min(size, source.size - offset), b"\0")
            assert stream.read_at(offset, size) == expected, offset
        assert stream.read_at(source.size - 10, 100) == bytes(10)  # the volume's end, never written
    finally:
        stream.close()  # waits for fetches in flight (read ahead)
    assert stream.stats.zero_blocks > 0
    assert stream.stats.fetched_blocks <= len(aws["written"])
    # one DescribeImages, one ListSnapshotBlocks page, one GetSnapshotBlock per fetched block
    assert source.requests() == 2 + stream.stats.fetched_blocks
    assert details == {
        "ami_id": aws["ami"],
        "snapshot_id": aws["snapshot"],
        "owner_id": CANONICAL,
        "name": "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261120",
        "description": "Canonical, Ubuntu, 24.04, amd64 noble image",
        "creation_date": details["creation_date"],
        "region": "us-east-1",
        "root_device": "/dev/xvda",
        "volume_size_gib": "1",
        "encrypted": "false",
    }
    assert details["creation_date"].startswith("20")


def test_details_of_a_copied_image_name_its_source() -> None:
    image = {
        "OwnerId": "111122223333",
        "Name": "copy\nof noble",
        "CreationDate": "2026-11-21T00:00:00.000Z",
        "RootDeviceName": "/dev/sda1",
        "ImageOwnerAlias": "",
        "PlatformDetails": "Linux/UNIX",
        "DeprecationTime": "2028-11-20T00:00:00.000Z",
        "SourceImageId": "ami-0abcdef0123456789",
        "SourceImageRegion": "us-east-1",
    }
    details = image_details(
        "ami-01234567", image, {"SnapshotId": "snap-01234567", "Encrypted": True}, "eu-west-1"
    )
    assert details == {
        "ami_id": "ami-01234567",
        "snapshot_id": "snap-01234567",
        "owner_id": "111122223333",
        "name": "copyof noble",  # control characters dropped
        "creation_date": "2026-11-21T00:00:00.000Z",
        "region": "eu-west-1",
        "root_device": "/dev/sda1",
        "encrypted": "true",
        "platform_details": "Linux/UNIX",
        "deprecation_time": "2028-11-20T00:00:00.000Z",
        "source_image_id": "ami-0abcdef0123456789",
        "source_image_region": "us-east-1",
    }


def test_checksum_mismatch_is_refused(aws: dict[str, Any], tmp_path: Path) -> None:
    sample_disk(tmp_path / "disk.raw")
    snapshot, _, _ = upload_snapshot(aws["session"], tmp_path / "disk.raw", bad_checksum={3})
    source, _ = open_ami_source(register_ami(aws["session"], snapshot), REGION)
    try:
        assert len(source.fetch(1)) == BLOCK
        with pytest.raises(TargetError, match=rf"^{snapshot}: block 3 failed its checksum$"):
            source.fetch(3)
    finally:
        source.close()


def test_corrupt_data_length_is_refused(aws: dict[str, Any], tmp_path: Path) -> None:
    sample_disk(tmp_path / "disk.raw")
    snapshot, _, _ = upload_snapshot(aws["session"], tmp_path / "disk.raw", bad_length={6})
    source, _ = open_ami_source(register_ami(aws["session"], snapshot), REGION)
    stream = BlockStream(source)
    try:
        with pytest.raises(TargetError, match=rf"^{snapshot}: block 6 has DataLength 262144, not 524288$"):
            stream.read_at(6 * BLOCK + 100, 10)
        with pytest.raises(TargetError):  # the stream stays poisoned
            stream.read_at(0, 10)
    finally:
        stream.close()


def test_missing_snapshot(aws: dict[str, Any]) -> None:
    ami = register_ami(aws["session"], "snap-0123456789abcdef0")
    assert refusal(ami) == "snapshot snap-0123456789abcdef0 not found"


def test_missing_ami(aws: dict[str, Any]) -> None:
    assert refusal("ami-0123456789abcdef0") == (
        "ami:ami-0123456789abcdef0: not found in us-east-1 (or not visible to these credentials)"
    )


def test_instance_store_and_snapshotless_amis(aws: dict[str, Any]) -> None:
    assert refusal(INSTANCE_STORE) == (
        f"ami:{INSTANCE_STORE}: an instance-store AMI:"
        " only EBS-backed AMIs can be read without launching them"
    )
    ami = register_ami(aws["session"], None)
    assert refusal(ami) == f"ami:{ami}: the root device has no snapshot"
    other = register_ami(aws["session"], aws["snapshot"], device="/dev/sdb")
    assert refusal(other) == f"ami:{other}: no block device mapping for the root device"


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "ami-",
        "ami-0123456",
        "ami-0123456789ABCDEF0",
        "ami-0123456789abcdef0\n",
        "ami-0123456789abcdef0\nInjected: yes",
        "ami-0123456789abcdef",
        "ami-0123456789abcdef01",
        "ami-０１２３４５６７",
        "ami-0123456789abcdef0/../../snapshots",
        "snap-0123456789abcdef0",
        "ami-" + "a" * 10000,
        "\x1b[31mami-01234567",
    ],
)
def test_bad_ami_ids_are_refused_without_echo(hostile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # nothing may be asked
    message = refusal(hostile)
    assert message == "ami: target is not an AMI id (ami- and 8 or 17 lowercase hexadecimal digits)"


def test_no_region(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert refusal("ami-01234567", RemoteOptions()) == "no AWS region: pass --region or set AWS_REGION"


def test_region_from_the_environment(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3's chain (AWS_DEFAULT_REGION here); the CLI passes AWS_REGION as --region (test_ebs_audit)."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    source, details = open_ami_source(aws["ami"], RemoteOptions())
    source.close()
    assert details["region"] == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # the AMI is in us-east-1 only
    assert refusal(aws["ami"], RemoteOptions()) == (
        f"ami:{aws['ami']}: not found in eu-west-1 (or not visible to these credentials)"
    )


def test_no_credentials(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert refusal(aws["ami"]) == (
        f"ami:{aws['ami']}: no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
    )


def test_service_endpoints_are_honoured_separately(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, no_backoff: None
) -> None:
    """botocore's own AWS_ENDPOINT_URL_<SERVICE> variables win over AWS_ENDPOINT_URL, per service."""
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", aws["endpoint"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_EBS", aws["endpoint"])
    source, _ = open_ami_source(aws["ami"], REGION)
    try:
        assert len(source.fetch(aws["written"][0])) == BLOCK
    finally:
        source.close()
    monkeypatch.setenv("AWS_ENDPOINT_URL_EBS", dead)  # DescribeImages still answers, the EBS API does not
    assert refusal(aws["ami"]) == (
        f"snapshot {aws['snapshot']}: cannot reach the EBS direct API in us-east-1"
        " (EndpointConnectionError, 4 attempts)"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", dead)
    assert refusal(aws["ami"]) == (
        f"ami:{aws['ami']}: cannot reach the EC2 API in us-east-1 (EndpointConnectionError, 4 attempts)"
    )


def test_moto_missing_snapshot_500_after_retries(tmp_path: Path, no_backoff: None) -> None:
    """Unpatched, moto answers a snapshot its EBS backend never saw with an HTML HTTP 500 (a KeyError):
    botocore retries it (standard mode, 4 attempts, all counted) and the line says what failed."""
    env = {"IMAGEVET_TEST_EBS_RAW_MISSING": "1"}
    with moto_acting_as(tmp_path, None, env=env):
        ami = register_ami(boto3.session.Session(), "snap-0123456789abcdef0")
        with pytest.raises(TargetError) as caught:
            open_ami_source(ami, REGION)
        assert str(caught.value) == (
            "snapshot snap-0123456789abcdef0: ebs:ListSnapshotBlocks failed (HTTP 500 InternalError)"
            " after 4 attempts"
        )


def test_denied_call_names_the_iam_action(tmp_path: Path, aws: dict[str, Any]) -> None:
    """moto's own IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT through /moto-api/reset-auth): a user
    without ec2:DescribeImages is refused it. moto 5.2.5 cannot deny an EBS call in AWS's shape: under
    enforcement every EBS request fails moto's signature check (even an allowed one), as a 403 whose XML
    body botocore cannot parse for a rest-json service; imagevet reads a bare 403 from the EBS direct APIs
    as access denied. The AWS-shaped denials (AccessDeniedException with its Reason) are stubbed below."""
    folder = tmp_path / "iam"
    with moto_acting_as(folder, None) as (endpoint, _):
        session = account_credentials(CANONICAL).session()
        sample_disk(folder / "disk.raw")
        snapshot, _, _ = upload_snapshot(session, folder / "disk.raw")
        ami = register_ami(session, snapshot)
        ebs_only = denied_user(session, ["ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock"])
        ec2_only = denied_user(session, ["ec2:DescribeImages"])
        enforce_iam(endpoint)

        def as_user(user: Credentials) -> str:
            with pytest.MonkeyPatch.context() as inner:
                inner.delenv("AWS_SESSION_TOKEN", raising=False)
                for key, value in user.environment().items():
                    inner.setenv(key, value)
                return refusal(ami)

        assert as_user(ebs_only) == f"ami:{ami}: access denied: the credentials lack ec2:DescribeImages"
        assert (
            as_user(ec2_only)
            == f"snapshot {snapshot}: access denied: the credentials lack ebs:ListSnapshotBlocks"
        )


# ---- AWS-shaped answers moto cannot give: botocore's Stubber ---------------------------------------------
def stubbed_ebs() -> Any:
    return boto3.session.Session(
        aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1"
    ).client("ebs", endpoint_url="http://127.0.0.1:1")


def page(
    indexes: range | list[int], token: str | None = None, block_size: int = BLOCK_SIZE
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Blocks": [{"BlockIndex": i, "BlockToken": f"token-{i}"} for i in indexes],
        "VolumeSize": 8,
        "BlockSize": block_size,
        "ResponseMetadata": {"RetryAttempts": 0},
    }
    if token:
        out["NextToken"] = token
    return out


def listed(pages: list[dict[str, Any]], encrypted: bool = False) -> EbsSnapshotSource:
    client = stubbed_ebs()
    with Stubber(client) as stub:
        token = None
        for answer in pages:
            expected: dict[str, Any] = {"SnapshotId": "snap-01234567", "MaxResults": 10000}
            if token:
                expected["NextToken"] = token
            stub.add_response("list_snapshot_blocks", answer, expected)
            token = answer.get("NextToken")
        source = EbsSnapshotSource.listed(
            Api(None, client, "us-east-1"), "ami-01234567", "snap-01234567", encrypted
        )
        stub.assert_no_pending_responses()
    return source


def test_pagination_follows_next_token() -> None:
    pages = [page(range(0, 10000), "p2"), page(range(10000, 10150), "p3"), page([16000, 16383])]
    pages[1]["ResponseMetadata"]["RetryAttempts"] = 2  # a page that needed two retries: three requests
    source = listed(pages)
    assert source.size == 8 * GIB
    assert all(source.allocated(i) for i in (0, 9999, 10000, 10149, 16000, 16383))
    assert not any(source.allocated(i) for i in (10150, 15999))
    assert source.requests() == 5


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        ([page([5, 3])], "listed block 3 out of order"),
        ([page([16384])], "listed block 16384 out of order"),  # beyond the 8 GiB volume
        ([page([1], "again"), page([2], "again")], "does not end"),
        ([page([1], block_size=4096)], "reports 4096 bytes per block, not 524288"),
    ],
)
def test_listings_that_do_not_fit_are_refused(pages: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(TargetError, match=message):
        listed(pages)


def test_endless_pages_are_capped() -> None:
    pages = [page([i], f"t{i}") for i in range(16384 // 100 + 17)]
    with pytest.raises(TargetError, match=r"does not end \(180 pages\)"):
        listed(pages)


@pytest.mark.parametrize(
    ("code", "status", "reason", "encrypted", "message"),
    [
        (
            "AccessDeniedException",
            403,
            "UNAUTHORIZED_ACCOUNT",
            False,
            "access denied: the credentials lack"
            " ebs:ListSnapshotBlocks (UNAUTHORIZED_ACCOUNT: the EBS direct APIs read only this account's"
            " snapshots and those shared with it, never public ones)",
        ),
        (
            "AccessDeniedException",
            403,
            "DEPENDENCY_ACCESS_DENIED",
            False,
            "access denied: the credentials"
            " lack ebs:ListSnapshotBlocks (or kms:Decrypt on the key of the encrypted snapshot)",
        ),
        (
            "AccessDeniedException",
            403,
            "UNAUTHORIZED_ACCOUNT",
            True,
            "access denied: the credentials lack"
            " ebs:ListSnapshotBlocks (or kms:Decrypt on the key of the encrypted snapshot)",
        ),
        (
            "RequestThrottledException",
            400,
            "ACCOUNT_THROTTLED",
            False,
            "ebs:ListSnapshotBlocks throttled after 4 attempts (RequestThrottledException): try again later",
        ),
        (
            "ValidationException",
            400,
            "INVALID_SNAPSHOT_ID",
            False,
            "ebs:ListSnapshotBlocks failed (HTTP 400 ValidationException INVALID_SNAPSHOT_ID)",
        ),
        (
            "InternalServerException",
            500,
            None,
            False,
            "ebs:ListSnapshotBlocks failed (HTTP 500 InternalServerException) after 4 attempts",
        ),
        ("Some\nthing <b>", 418, None, False, "ebs:ListSnapshotBlocks failed (HTTP 418 error)"),
        (
            "ValidationException",
            400,
            "bad\n<reason>",
            False,
            "ebs:ListSnapshotBlocks failed (HTTP 400 ValidationException)",
        ),
    ],
)
def test_ebs_error_lines(code: str, status: int, reason: str | None, encrypted: bool, message: str) -> None:
    client = stubbed_ebs()
    with Stubber(client) as stub:
        stub.add_client_error(
            "list_snapshot_blocks",
            code,
            "AWS's own text, never shown",
            status,
            modeled_fields={"Reason": reason} if reason else None,
        )
        with pytest.raises(TargetError) as caught:
            EbsSnapshotSource.listed(
                Api(None, client, "us-east-1"), "ami-01234567", "snap-01234567", encrypted
            )
    assert str(caught.value) == f"snapshot snap-01234567: {message}"
