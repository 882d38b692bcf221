"""Disk images read without root mounts: GPT and MBR, qcow2/vmdk/raw, LVM2, ext4 and XFS."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from imagevet.errors import TargetError
from imagevet.target import open_target
from tests.conftest import FIXTURES
from tests.support.disks import (
    LVM_TOOLS,
    audit_statuses,
    cached_debian_disk,
    disk_tools_available,
    make_disk,
    make_lvm_disk,
    make_xfs,
)
from tests.target.refusal import assert_refused

pytestmark = pytest.mark.real


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    if not disk_tools_available():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")


def statuses(spec: str) -> dict[str, str]:
    return audit_statuses(spec)[0]


@pytest.fixture(scope="module")
def debian_qcow2(debian_root: Path) -> Path:
    return cached_debian_disk(debian_root)


def test_gpt_qcow2_audits_like_the_directory(debian_root: Path, debian_qcow2: Path) -> None:
    assert statuses(f"disk:{debian_qcow2}") == statuses(str(debian_root))


@pytest.mark.parametrize(("label", "fmt"), [("dos", "raw"), ("gpt", "vmdk")])
def test_mbr_raw_and_vmdk(tmp_path: Path, label: str, fmt: str) -> None:
    disk = make_disk(
        FIXTURES / "rootfs/hardened-debian", tmp_path / f"disk.{fmt}", label=label, size_mib=64, fmt=fmt
    )
    assert statuses(f"disk:{disk}") == statuses(str(FIXTURES / "rootfs/hardened-debian"))


def test_lvm_logical_volume(tmp_path: Path) -> None:
    if not all(shutil.which(tool) for tool in LVM_TOOLS):
        pytest.skip("lvm2 tools are not installed")
    disk = make_lvm_disk(FIXTURES / "rootfs/hardened-debian", tmp_path / "lvm.raw")
    assert statuses(f"disk:{disk}") == statuses(str(FIXTURES / "rootfs/hardened-debian"))


def test_xfs_filesystem(tmp_path: Path) -> None:
    if shutil.which("mkfs.xfs") is None:
        pytest.skip("xfsprogs is not installed")
    disk = make_xfs(
        {
            "/etc/os-release": 'ID=rocky\nVERSION_ID="9.3"\nNAME="Rocky Linux"\n',
            "/etc/ssh/sshd_config": "PermitRootLogin no\n",
        },
        tmp_path / "xfs.raw",
        tmp_path / "proto",
    )
    target = open_target(f"disk:{disk}")
    try:
        assert target.read_text("/etc/os-release").startswith("ID=rocky")  # type: ignore[union-attr]
        assert target.list_dir("/etc") == ["os-release", "ssh"]
    finally:
        target.close()


@pytest.mark.parametrize("damage", ["garbage", "truncated-qcow2"])
def test_damaged_disks_are_one_line_errors(tmp_path: Path, debian_qcow2: Path, damage: str) -> None:
    bad = tmp_path / "bad.img"
    bad.write_bytes(os.urandom(1 << 20) if damage == "garbage" else debian_qcow2.read_bytes()[: 1 << 20])
    with pytest.raises(TargetError):
        open_target(f"disk:{bad}").read_text("/etc/os-release")
    assert_refused(f"disk:{bad}", bad)  # exit 2, one line naming the file, no report
