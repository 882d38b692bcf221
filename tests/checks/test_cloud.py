"""Cloud readiness checks (audit --cloud): datasource and IMDSv2-capable cloud-init, agents, time, crypto."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES

CLOUD_CHECKS = [
    "cloud-init-datasource",
    "cloud-agent",
    "cloud-monitoring-agent",
    "cloud-time-sync",
    "cloud-encryption-tools",
]


def statuses(root: Path, cloud: str | None) -> dict[str, Status]:
    report = run_audit(
        RootfsTarget(str(root)), CheckOptions(dt.date(2026, 11, 28), cloud=cloud), CLOUD_CHECKS
    )
    return {r.check: r.status for r in report.results}


@pytest.fixture
def image(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "rootfs/hardened-debian", root, symlinks=True)
    return root


def test_without_cloud_everything_skips(image: Path) -> None:
    assert set(statuses(image, None).values()) == {Status.SKIP}


def test_a_bare_image_is_not_ready(image: Path) -> None:
    got = statuses(image, "aws")
    assert got["cloud-init-datasource"] is Status.PASS  # 22.4.2 >= 19.4, datasource detected automatically
    assert {got[c] for c in CLOUD_CHECKS[1:]} == {Status.FAIL}


def test_a_ready_aws_image(image: Path) -> None:
    (image / "etc/cloud/cloud.cfg.d").mkdir(parents=True)
    (image / "etc/cloud/cloud.cfg.d/90-ds.cfg").write_text("datasource_list: [ Ec2, None ]\n")
    (image / "etc/chrony").mkdir()
    (image / "etc/chrony/chrony.conf").write_text(
        "# pool 2.debian.pool.ntp.org\nserver 169.254.169.123 prefer iburst\n"
    )
    (image / "snap/amazon-ssm-agent").mkdir(parents=True)
    (image / "opt/aws/amazon-cloudwatch-agent").mkdir(parents=True)
    status = image / "var/lib/dpkg/status"
    status.write_text(
        status.read_text() + "\nPackage: cryptsetup\nStatus: install ok installed\nVersion: 2:2.6.1-4\n"
    )
    assert set(statuses(image, "aws").values()) == {Status.PASS}
    # The same image pinned to another cloud's datasource is not ready for that cloud.
    assert statuses(image, "azure")["cloud-init-datasource"] is Status.FAIL


def test_old_cloud_init_cannot_use_imdsv2(image: Path) -> None:
    status = image / "var/lib/dpkg/status"
    status.write_text(status.read_text().replace("Version: 22.4.2-1+deb12u4", "Version: 18.3-6"))
    assert statuses(image, "aws")["cloud-init-datasource"] is Status.FAIL
    assert statuses(image, "gcp")["cloud-init-datasource"] is Status.PASS
