"""VHD (fixed and dynamic) and VHDX (dynamic and fixed) disk images audit exactly like the directory they
were made from: a GPT disk made by sfdisk and mkfs.ext4 (tests/support/disks.py), converted by qemu-img.

qemu-img rounds a VHD's virtual size up to a whole CHS geometry unless it is given ``force_size=on``; the
images here are made with it so that their virtual size is the raw disk's (checked with qemu-img info),
and one without it shows the rounded-up disk still audits alike."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from imagevet.target import open_target
from imagevet.target.blocks import BlockStream
from imagevet.target.disk import DiskTarget
from tests.conftest import FIXTURES
from tests.support.disks import audit_statuses, disk_tools_available, make_disk

pytestmark = pytest.mark.real
ROOT = FIXTURES / "rootfs/hardened-debian"
SIZE = 64 << 20

FORMATS = {
    "fixed.vhd": ("vpc", "subformat=fixed,force_size=on"),
    "dynamic.vhd": ("vpc", "subformat=dynamic,force_size=on"),
    "chs-rounded.vhd": ("vpc", "subformat=dynamic"),
    "dynamic.vhdx": ("vhdx", "subformat=dynamic"),
    "fixed.vhdx": ("vhdx", "subformat=fixed"),
}


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    if not disk_tools_available():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")


def convert(raw: Path, out: Path, fmt: str, options: str) -> Path:
    subprocess.run(
        ["qemu-img", "convert", "-O", fmt, "-o", options, str(raw), str(out)], check=True, capture_output=True
    )
    return out


def virtual_size(image: Path, fmt: str) -> int:
    """What qemu-img reads as the virtual size (``-f``: qemu probes a fixed VHD, footer last, as raw)."""
    info = subprocess.run(
        ["qemu-img", "info", "--output=json", "-f", fmt, str(image)],
        capture_output=True,
        text=True,
        check=True,
    )
    size: int = json.loads(info.stdout)["virtual-size"]
    return size


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vhd")
    raw = make_disk(ROOT, folder / "disk.raw", size_mib=64, fmt="raw")
    return {name: convert(raw, folder / name, *how) for name, how in FORMATS.items()}


def statuses(spec: str) -> dict[str, str]:
    return audit_statuses(spec)[0]


@pytest.mark.parametrize("name", list(FORMATS))
def test_vhd_and_vhdx_audit_like_the_directory(images: dict[str, Path], name: str) -> None:
    assert statuses(f"disk:{images[name]}") == statuses(str(ROOT))


@pytest.mark.parametrize("name", ["fixed.vhd", "dynamic.vhd", "dynamic.vhdx", "fixed.vhdx"])
def test_the_virtual_size_is_the_raw_disks(images: dict[str, Path], name: str) -> None:
    assert virtual_size(images[name], FORMATS[name][0]) == SIZE


def test_a_fixed_vhd_is_the_raw_disk_and_its_footer(images: dict[str, Path]) -> None:
    """The disk imagevet reads is the virtual size (the footer left out): the GPT backup header, in the
    disk's last sector, is found where the footer says the disk ends."""
    assert images["fixed.vhd"].stat().st_size == SIZE + 512
    assert images["fixed.vhd"].read_bytes()[-512:][:8] == b"conectix"
    target = open_target(f"disk:{images['fixed.vhd']}")
    try:
        assert "sshd_config" in target.list_dir("/etc/ssh")
    finally:
        target.close()


class FileSource:
    """A BlockSource over a local file, counting the blocks fetched (what a remote image would cost)."""

    kind = "http"
    location = "memory://image"
    block_size = 64 << 10

    def __init__(self, path: Path) -> None:
        self.data = path.read_bytes()
        self.size = len(self.data)
        self.fetched: set[int] = set()

    def cache_key(self) -> str | None:
        return None

    def allocated(self, index: int) -> bool:
        return True

    def fetch(self, index: int) -> bytes:
        self.fetched.add(index)
        return self.data[index * self.block_size : (index + 1) * self.block_size]

    def requests(self) -> int:
        return len(self.fetched)

    def close(self) -> None:
        pass


@pytest.mark.parametrize("name", list(FORMATS))
def test_read_as_a_remote_stream_only_what_is_needed(images: dict[str, Path], name: str) -> None:
    """The checks use only seek and read, and read the metadata, not every block: opening the image and
    reading one file through a BlockStream fetches a small part of it."""
    source = FileSource(images[name])
    target = DiskTarget(f"disk:{name}", BlockStream(source), name, None)
    try:
        assert "Debian" in str(target.read_text("/etc/os-release"))
    finally:
        target.close()
    blocks = -(-source.size // source.block_size)
    assert len(source.fetched) < blocks // 4, (len(source.fetched), blocks)
