"""Truncated and hostile disk images (issue 15, item 3): real images made by sfdisk, mkfs.ext4 and
qemu-img (tests/support/disks.py), then cut short or pointed at other files; each refused through the
CLI with one line naming the file, never half-read."""

from __future__ import annotations

import json
import os
import struct
import subprocess
from pathlib import Path

import pytest

from imagevet.target import open_target
from tests.conftest import FIXTURES
from tests.support.disks import disk_tools_available, make_disk, sparse_file
from tests.target.refusal import MARK, assert_refused

pytestmark = pytest.mark.real
ROOT = FIXTURES / "rootfs/hardened-debian"


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    if not disk_tools_available():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")


@pytest.fixture(scope="module")
def disks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One real 64 MiB image of the hardened-debian fixture per format (made once for the module)."""
    folder = tmp_path_factory.mktemp("disks")
    made = {}
    for name, label, fmt in [
        ("gpt.raw", "gpt", "raw"),
        ("mbr.raw", "dos", "raw"),
        ("gpt.qcow2", "gpt", "qcow2"),
    ]:
        own = folder / name.replace(".", "-")  # make_disk uses DIR/disk.raw as its scratch file
        own.mkdir()
        made[name] = make_disk(ROOT, own / f"disk.{fmt}", label=label, size_mib=64, fmt=fmt)
    (folder / "vmdk").mkdir()
    made["sparse.vmdk"] = make_disk(ROOT, folder / "vmdk" / "disk.vmdk", size_mib=64, fmt="vmdk")
    return made


def _cut(source: Path, out: Path, fraction: float) -> Path:
    data = source.read_bytes()
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


@pytest.mark.parametrize(
    ("image", "fraction", "problem"),
    [
        ("gpt.raw", 0.5, "backup GPT header lies beyond the end of the disk (truncated)"),
        ("gpt.raw", 0.9999, "backup GPT header lies beyond the end of the disk (truncated)"),
        ("mbr.raw", 0.6, "partition 1 ends beyond the end of the disk (truncated)"),
        ("gpt.qcow2", 0.1, "L1 table at byte"),
        ("gpt.qcow2", 0.6, "lies beyond the end of the file (truncated)"),
        ("gpt.qcow2", 0.99, "lies beyond the end of the file (truncated)"),
        ("sparse.vmdk", 0.5, "grain at byte"),
        ("sparse.vmdk", 0.99, "grain at byte"),
    ],
)
def test_truncated_disk_images_are_refused(
    disks: dict[str, Path], tmp_path: Path, image: str, fraction: float, problem: str
) -> None:
    bad = _cut(disks[image], tmp_path / f"cut-{image}", fraction)
    assert_refused(f"disk:{bad}", bad, problem)


def test_the_whole_images_open(disks: dict[str, Path]) -> None:
    for image in disks.values():
        target = open_target(f"disk:{image}")
        try:
            assert "Debian" in str(target.read_text("/etc/os-release"))
        finally:
            target.close()


def test_truncated_bare_filesystem_is_refused(tmp_path: Path) -> None:
    """No partition table: the ext4 superblock's size is checked against the file."""
    fs = sparse_file(tmp_path / "fs.ext4", 32)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(ROOT), str(fs)], check=True, capture_output=True)
    bad = _cut(fs, tmp_path / "cut.ext4", 0.7)
    assert_refused(f"disk:{bad}", bad, "beyond the end of the disk (truncated)")


def test_qcow2_with_a_backing_file_is_refused(disks: dict[str, Path], tmp_path: Path) -> None:
    """qemu-img overlays name their backing file by path: imagevet reads only the file it is given."""
    overlay = tmp_path / "overlay.qcow2"
    subprocess.run(
        [
            "qemu-img",
            "create",
            "-q",
            "-f",
            "qcow2",
            "-b",
            str(disks["gpt.qcow2"]),
            "-F",
            "qcow2",
            str(overlay),
        ],
        check=True,
        capture_output=True,
    )
    assert_refused(f"disk:{overlay}", overlay, "has a backing file")


def test_qcow2_with_an_external_data_file_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "external.qcow2"
    subprocess.run(
        [
            "qemu-img",
            "create",
            "-q",
            "-f",
            "qcow2",
            "-o",
            f"data_file={tmp_path / 'data.raw'}",
            str(image),
            "64M",
        ],
        check=True,
        capture_output=True,
    )
    assert_refused(f"disk:{image}", image, "external file")


def test_qcow2_marked_corrupt_is_refused(disks: dict[str, Path], tmp_path: Path) -> None:
    data = bytearray(disks["gpt.qcow2"].read_bytes())
    (features,) = struct.unpack_from(">Q", data, 72)
    struct.pack_into(">Q", data, 72, features | 0b10)  # what qemu sets when it finds corruption
    (tmp_path / "corrupt.qcow2").write_bytes(bytes(data))
    assert_refused(f"disk:{tmp_path / 'corrupt.qcow2'}", tmp_path / "corrupt.qcow2", "marked corrupt")


def _monolithic_flat(disks: dict[str, Path], folder: Path) -> Path:
    folder.mkdir()
    out = folder / "flat.vmdk"
    subprocess.run(
        [
            "qemu-img",
            "convert",
            "-O",
            "vmdk",
            "-o",
            "subformat=monolithicFlat",
            str(disks["gpt.raw"]),
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out


def test_vmdk_descriptor_with_flat_extent_opens(disks: dict[str, Path], tmp_path: Path) -> None:
    descriptor = _monolithic_flat(disks, tmp_path / "flat")
    target = open_target(f"disk:{descriptor}")
    try:
        assert "Debian" in str(target.read_text("/etc/os-release"))
    finally:
        target.close()


@pytest.mark.parametrize("hostile", ["link outside", "path outside", "needs a parent", "short extent"])
def test_hostile_vmdk_descriptors_are_refused(disks: dict[str, Path], tmp_path: Path, hostile: str) -> None:
    descriptor = _monolithic_flat(disks, tmp_path / "flat")
    text = descriptor.read_text()
    extent = descriptor.with_name("flat-flat.vmdk")
    if hostile == "link outside":
        outside = tmp_path / f"{MARK}.raw"
        extent.rename(outside)
        extent.symlink_to(outside)
        problem = "VMDK extent 1 is a symbolic link"
    elif hostile == "path outside":
        descriptor.write_text(text.replace('"flat-flat.vmdk"', f'"../{MARK}/flat-flat.vmdk"'))
        problem = "VMDK extent 1 is not a file beside the descriptor"
    elif hostile == "needs a parent":
        descriptor.write_text(text.replace("parentCID=ffffffff", "parentCID=12345678"))
        problem = "needs its parent disk"
    else:
        os.truncate(extent, extent.stat().st_size // 2)
        problem = "VMDK extent 1 is"
    assert_refused(f"disk:{descriptor}", descriptor, problem)


def test_sparse_vmdk_snapshot_is_refused(disks: dict[str, Path], tmp_path: Path) -> None:
    overlay = tmp_path / "snapshot.vmdk"
    subprocess.run(
        [
            "qemu-img",
            "create",
            "-q",
            "-f",
            "vmdk",
            "-b",
            str(disks["sparse.vmdk"]),
            "-F",
            "vmdk",
            str(overlay),
        ],
        check=True,
        capture_output=True,
    )
    assert_refused(f"disk:{overlay}", overlay, "needs its parent disk")


def test_garbage_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.img"
    bad.write_bytes(os.urandom(1 << 20))
    assert_refused(f"disk:{bad}", bad, "no ext2/3/4 or XFS filesystem")


def test_partition_table_made_by_sfdisk_for_a_bigger_disk(tmp_path: Path) -> None:
    """A partition that sfdisk placed on a 64 MiB disk, the file then cut to 8 MiB (MBR: no backup)."""
    raw = sparse_file(tmp_path / "mbr.raw", 64)
    subprocess.run(
        ["sfdisk", "-q", str(raw)], input="label: dos\n,,83\n", text=True, check=True, capture_output=True
    )
    table = json.loads(
        subprocess.run(["sfdisk", "--json", str(raw)], capture_output=True, text=True, check=True).stdout
    )
    assert table["partitiontable"]["partitions"][0]["size"] * 512 > 8 << 20
    os.truncate(raw, 8 << 20)
    assert_refused(f"disk:{raw}", raw, "partition 1 ends beyond the end of the disk")
