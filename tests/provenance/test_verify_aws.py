"""`imagevet verify` on AWS against moto's EC2 server: official, lookalike, not found, no credentials,
unreachable endpoint; through boto3 and the HTTP wire, not a mock of the SDK."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from pathlib import Path

import boto3

from imagevet.catalog.store import bundled_catalog
from imagevet.model import SourceInfo, TargetInfo
from imagevet.provenance.verify import verify_image, verify_target
from tests.conftest import AS_OF_DATE
from tests.provenance.conftest import NOW
from tests.support.cli import run_imagevet

OLD_JAMMY, NEW_JAMMY, DEBIAN = "ami-0a1b2c3d4e5f60001", "ami-0a1b2c3d4e5f60002", "ami-0a1b2c3d4e5f60003"


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_imagevet("verify", *args, "--as-of", AS_OF_DATE, env=env)


def register_lookalike(name: str) -> str:
    """An AMI registered by the caller's own (non-publisher) account, named like Canonical's."""
    ec2 = boto3.client("ec2")
    return str(ec2.register_image(Name=name, RootDeviceName="/dev/sda1")["ImageId"])


def test_official_image_with_a_newer_build(aws_env: dict[str, str]) -> None:
    result = verify_image("aws", OLD_JAMMY, bundled_catalog(), NOW)
    assert (result.verdict, result.publisher, result.owner) == ("official", "Canonical", "099720109477")
    assert (result.distro, result.version) == ("ubuntu", "22.04")
    assert result.age_days == (NOW - dt.datetime(2024, 1, 1, tzinfo=dt.UTC)).days
    assert result.newer_official == NEW_JAMMY and not result.deprecated
    proc = cli(aws_env, OLD_JAMMY, "--cloud", "aws", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "imagevet/verify/v1" and doc["verdict"] == "official"
    assert set(doc) == {
        "schema", "cloud", "image_id", "verdict", "publisher", "owner", "name", "os", "created", "age_days",
        "deprecated", "newer_official", "alternatives", "reasons",
    }  # fmt: skip
    newest = verify_image("aws", NEW_JAMMY, bundled_catalog(), NOW)
    assert newest.verdict == "official" and newest.newer_official is None
    debian = verify_image("aws", DEBIAN, bundled_catalog(), NOW)
    assert (debian.publisher, debian.distro, debian.version) == ("Debian", "debian", "12")


def test_lookalike_is_unofficial_with_official_alternatives(aws_env: dict[str, str]) -> None:
    fake = register_lookalike("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20261120")
    result = verify_image("aws", fake, bundled_catalog(), NOW)
    assert result.verdict == "unofficial" and result.publisher is None and result.owner == "123456789012"
    assert result.distro == "ubuntu"
    assert {"ubuntu-22.04", "ubuntu-24.04"} <= {a["release"] for a in result.alternatives}
    assert all(a["publisher"] == "Canonical" for a in result.alternatives)
    proc = cli(aws_env, fake, "--cloud", "aws")
    assert proc.returncode == 1 and "unofficial" in proc.stdout


def test_not_found_and_bad_ids_are_clear_errors(aws_env: dict[str, str]) -> None:
    proc = cli(aws_env, "ami-0ffffffffffffffff", "--cloud", "aws", "-f", "json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["verdict"] == "unknown"
    assert "not found" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    bad = cli(aws_env, "ami-xyz", "--cloud", "aws")
    assert bad.returncode == 2 and "not a valid aws image id" in bad.stderr and "Traceback" not in bad.stderr
    other = cli(aws_env, OLD_JAMMY, "--cloud", "mars")
    assert other.returncode == 2 and "unknown cloud" in other.stderr


def test_no_credentials_is_unknown_not_a_traceback(aws_env: dict[str, str]) -> None:
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    proc = cli(env, OLD_JAMMY, "--cloud", "aws")
    assert proc.returncode == 2
    assert "no AWS credentials" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_unreachable_endpoint_gives_up_quickly(aws_env: dict[str, str], tmp_path: Path) -> None:
    env = {**aws_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    started = time.monotonic()
    proc = cli(env, OLD_JAMMY, "--cloud", "aws")
    assert proc.returncode == 2 and "cannot reach the EC2 API" in proc.stderr
    assert time.monotonic() - started < 30
    assert os.environ["AWS_ENDPOINT_URL"] != env["AWS_ENDPOINT_URL"]


def test_audit_adds_source_official(aws_env: dict[str, str], tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    root = str(FIXTURES / "rootfs/hardened-debian")
    base = ["audit", root, "-f", "json", "--as-of", AS_OF_DATE]

    def source(*extra: str) -> tuple[int, dict[str, object]]:
        proc = run_imagevet(*base, *extra, env=aws_env)
        results = {r["check"]: r for r in json.loads(proc.stdout)["results"]}
        return proc.returncode, results["source-official"]

    _, skipped = source()
    assert skipped["status"] == "skip"
    _, official = source("--image-id", OLD_JAMMY, "--cloud", "aws", "--profile", "cis-l1")
    assert official["status"] == "pass" and "Canonical" in str(official["evidence"])
    fake = register_lookalike("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20261121")
    code, unofficial = source("--image-id", fake, "--cloud", "aws", "--checks", "ssh-root-login")
    assert unofficial["status"] == "fail" and unofficial["severity"] == "critical" and code == 1
    _, missing = source("--image-id", "ami-0ffffffffffffffff", "--cloud", "aws")
    assert missing["status"] == "error"
    proc = run_imagevet(*base, "--image-id", OLD_JAMMY, env=aws_env)
    assert proc.returncode == 2 and "--image-id needs --cloud" in proc.stderr


def test_unrecognised_name_has_no_guessed_os(aws_env: dict[str, str]) -> None:
    fake = register_lookalike("golden-base-2026-11")
    result = verify_image("aws", fake, bundled_catalog(), NOW)
    assert result.verdict == "unofficial" and result.distro is None and result.alternatives == ()
    assert any("imagevet recommend --cloud aws" in reason for reason in result.reasons)


JAMMY_NAME = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240101"


def _ami_target(**details: str) -> TargetInfo:
    """What an ``ami:`` target records after its DescribeImages (target/ebs.py image_details)."""
    source = SourceInfo("ebs", "ami (snap)", 8 << 30, 524288, 3, 0, 0, tuple(sorted(details.items())))
    return TargetInfo(f"ami:{details['ami_id']}", "disk", source=source)


def test_an_ami_target_is_judged_by_its_own_description_or_its_original(aws_env: dict[str, str]) -> None:
    """The AMI's own answer decides (no second call); a copy in the user's account is judged by the
    original AWS records for it (one DescribeImages of the original, here moto's seeded Canonical AMI);
    an image made from an instance of it (CreateImage) is not a copy."""
    catalog = bundled_catalog()
    own = _ami_target(
        ami_id="ami-0123456789abcdef0", owner_id="099720109477", owner_alias="amazon",
        name=JAMMY_NAME, creation_date="2024-01-01T00:00:00.000Z", region="us-east-1",
    )  # fmt: skip
    found = verify_target(own, catalog, NOW)
    assert found is not None and found.verdict == "official" and found.publisher == "Canonical"
    assert found.newer_official is None  # no second call, so no newer-build lookup
    copy = _ami_target(
        ami_id="ami-0123456789abcdef1", owner_id="123456789012",
        name=JAMMY_NAME, creation_date="2026-11-20T00:00:00.000Z", region="eu-west-1",
        source_image_id=OLD_JAMMY, source_image_region="us-east-1",
    )  # fmt: skip
    judged = verify_target(copy, catalog, NOW)  # a copy or a restore: undecided, never official
    assert judged is not None and judged.verdict == "unknown" and judged.image_id == "ami-0123456789abcdef1"
    assert judged.reasons[0].startswith(f"AWS records {OLD_JAMMY} in us-east-1 (Canonical, official)")
    assert "waive source-official" in judged.reasons[0]
    fake = register_lookalike(JAMMY_NAME)
    of_fake = _ami_target(**{**dict(copy.source.details), "source_image_id": fake})  # type: ignore[union-attr]
    judged_fake = verify_target(of_fake, catalog, NOW)
    assert judged_fake is not None and judged_fake.verdict == "unofficial"
    assert judged_fake.reasons[-1] == f"its recorded source {fake} is unofficial"
    derived = _ami_target(**dict(copy.source.details), source_instance_id="i-0123456789abcdef0")  # type: ignore[union-attr]
    made = verify_target(derived, catalog, NOW)
    assert made is not None and made.verdict == "unofficial"
    assert "not a copy" in made.reasons[-1]
    missing = _ami_target(**{**dict(copy.source.details), "source_image_id": "ami-0ffffffffffffffff"})  # type: ignore[union-attr]
    unknown = verify_target(missing, catalog, NOW)  # a source that cannot be found: judged by the owner
    assert unknown is not None and unknown.verdict == "unofficial" and "is unknown" in unknown.reasons[-1]
    assert verify_target(TargetInfo("/srv/root", "rootfs"), catalog, NOW) is None
