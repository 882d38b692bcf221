"""``ami:`` end to end: the Debian 12 root as a GPT raw disk, uploaded to moto as the EBS snapshot of a
Canonical-owned AMI (tests/support/ebs.py), audits exactly like the directory, check by check; and once
through the CLI, as a user runs it."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.target import open_target
from imagevet.target.blocks import BlockStream, RemoteOptions
from tests.conftest import AS_OF_DAY
from tests.support.cli import run_imagevet
from tests.support.disks import (
    audit_statuses,
    cached_debian_disk,
    configuration_checks,
    disk_tools_available,
    make_disk,
)
from tests.support.ebs import (
    CANONICAL,
    moto_acting_as,
    register_ami,
    upload_snapshot,
)
from tests.support.moto import aws_environment

pytestmark = pytest.mark.real
REGION = RemoteOptions(region="us-east-1")


def statuses(spec: str, remote: RemoteOptions | None = None) -> dict[str, str]:
    return audit_statuses(spec, remote)[0]


@pytest.fixture(scope="module")
def debian_raw(debian_root: Path) -> Path:
    if not disk_tools_available():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")
    return cached_debian_disk(debian_root, "raw")


@pytest.fixture(scope="module")
def ami(debian_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("moto-ami")
    with moto_acting_as(folder, CANONICAL) as (endpoint, canonical):
        assert canonical is not None
        started = time.monotonic()
        snapshot, gib, written = upload_snapshot(canonical.session(), debian_raw)
        uploaded = time.monotonic() - started
        image = register_ami(canonical.session(), snapshot, volume_gib=gib)
        yield {
            "id": image,
            "snapshot": snapshot,
            "gib": gib,
            "written": written,
            "uploaded_seconds": uploaded,
            "environment": {**aws_environment(endpoint, folder), **canonical.environment()},
        }


def test_ami_audits_like_the_directory(debian_root: Path, ami: dict[str, Any], tmp_path: Path) -> None:
    checks = configuration_checks()  # the 5% bound is the configuration's; the walk reads every inode too
    expected = audit_statuses(str(debian_root), None, checks)[0]
    started = time.monotonic()
    target = open_target(f"ami:{ami['id']}", None, REGION)
    try:
        got = {r.check: r.status.value for r in run_audit(target, CheckOptions(AS_OF_DAY), checks).results}
        stream = target._file  # type: ignore[attr-defined]
        assert isinstance(stream, BlockStream)
        info = target.info.source  # type: ignore[attr-defined]
    finally:
        target.close()
    elapsed = time.monotonic() - started
    assert target.failure() is None
    assert got == expected
    stats = stream.stats
    size = ami["gib"] << 30
    print(
        f"\nami: volume {size >> 20} MiB, {len(ami['written'])} written blocks"
        f" ({len(ami['written']) * 512 >> 10} MiB, uploaded in {ami['uploaded_seconds']:.1f} s);"
        f" audit fetched {stats.fetched_blocks} blocks ({stats.fetched_bytes >> 20} MiB,"
        f" {100 * stats.fetched_bytes / size:.1f}% of the volume), {stats.zero_blocks} zero blocks,"
        f" {info.requests} requests, {elapsed:.1f} s"
    )
    assert stats.fetched_bytes <= size * 0.05  # the bound: at most 5% of the image
    assert info is not None and info.kind == "ebs" and info.size == size
    details = dict(info.details)
    assert details["ami_id"] == ami["id"] and details["owner_id"] == CANONICAL
    assert details["snapshot_id"] == ami["snapshot"]

    # the disk cache: a second run fetches nothing
    cached = RemoteOptions(region="us-east-1", cache_dir=tmp_path / "cache")
    assert audit_statuses(f"ami:{ami['id']}", cached, checks)[0] == expected
    again = open_target(f"ami:{ami['id']}", None, cached)
    try:
        run_audit(again, CheckOptions(AS_OF_DAY), checks)
        assert again._file.stats.fetched_blocks == 0  # type: ignore[attr-defined]
        assert again._file.stats.cached_bytes > 0  # type: ignore[attr-defined]
    finally:
        again.close()


def test_ami_through_the_cli(ami: dict[str, Any], tmp_path: Path) -> None:
    env = {**os.environ, **ami["environment"], "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    env.pop("AWS_DEFAULT_REGION", None)  # --region is the one that counts
    result = run_imagevet(
        "audit", f"ami:{ami['id']}", "--region", "us-east-1", "-f", "json", env=env, timeout=300
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]  # 1: findings (no advisory database here)
    report = json.loads(result.stdout)
    assert report["target"]["path"] == f"ami:{ami['id']}"
    source = report["target"]["source"]
    assert (source["kind"], source["ami_id"], source["snapshot_id"]) == ("ebs", ami["id"], ami["snapshot"])
    assert source["owner_id"] == CANONICAL and source["image_bytes"] == ami["gib"] << 30
    assert 0 < source["bytes_fetched"] <= 0.05 * source["image_bytes"] and source["requests"] > 2
    official = next(r for r in report["results"] if r["check"] == "source-official")
    assert official["status"] == "pass", official  # judged from the AMI's own DescribeImages answer
    assert any(r["check"].startswith("cloud-") for r in report["results"])  # ami: implies --cloud aws
    assert "imagevet: read " in result.stderr and "of 2.0 GiB" in result.stderr
    # packages through AWS_REGION (the other SDKs' variable) instead of --region; the block cache of
    # the audit above serves every block
    listed = run_imagevet(
        "packages", f"ami:{ami['id']}", "-f", "json", env={**env, "AWS_REGION": "us-east-1"}
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    packages = json.loads(listed.stdout)
    assert len(packages["packages"]) > 100
    assert packages["target"]["source"]["bytes_fetched"] == 0
    assert packages["target"]["source"]["bytes_from_cache"] > 0


def test_a_lookalike_owner_fails_source_official(tmp_path: Path) -> None:
    """The same disk in an AMI named like Canonical's but owned by another account: the audit reads it
    all the same, and source-official fails the gate (exit 1), from the AMI's own description."""
    from tests.conftest import FIXTURES
    from tests.support.ebs import LOOKALIKE

    disk = make_disk(FIXTURES / "rootfs/hardened-debian", tmp_path / "disk.raw", size_mib=64, fmt="raw")
    with moto_acting_as(tmp_path / "moto", LOOKALIKE) as (endpoint, lookalike):
        assert lookalike is not None
        snapshot, gib, _ = upload_snapshot(lookalike.session(), disk)
        image = register_ami(lookalike.session(), snapshot, volume_gib=gib)
        env = {
            **os.environ, **aws_environment(endpoint, tmp_path), **lookalike.environment(),
            "IMAGEVET_BLOCK_CACHE": "off",
        }  # fmt: skip
        result = run_imagevet("audit", f"ami:{image}", "--region", "us-east-1", "-f", "json", env=env)
        missing = run_imagevet("audit", "ami:ami-0123456789abcdef0", "--region", "us-east-1", env=env)
        # the same AMI as a fleet host, its region from AWS_REGION: the AWS checks and source-official too
        (tmp_path / "hosts.txt").write_text(f"ami:{image}\n")
        fleet = run_imagevet(
            "audit", "--inventory", str(tmp_path / "hosts.txt"), "--output-dir", str(tmp_path / "out"),
            env={**env, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "eu-west-1"},
        )  # fmt: skip
    assert fleet.returncode == 1, fleet.stderr[-2000:]
    host = json.loads(next((tmp_path / "out").iterdir()).read_text())
    checks = {r["check"]: r["status"] for r in host["results"]}
    assert checks["source-official"] == "fail" and any(c.startswith("cloud-") for c in checks)
    assert result.returncode == 1, result.stderr[-2000:]
    official = next(r for r in json.loads(result.stdout)["results"] if r["check"] == "source-official")
    assert official["status"] == "fail" and LOOKALIKE in json.dumps(official), official
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "imagevet: error: ami:ami-0123456789abcdef0: not found in us-east-1 "
        "(or not visible to these credentials)"
    ]
