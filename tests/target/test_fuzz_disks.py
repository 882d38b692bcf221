"""Property-based fuzzing of the disk checks (qcow2 and VMDK metadata) over real images made by sfdisk,
mkfs.ext4 and qemu-img, damaged by hypothesis in their headers and tables, or cut short. Properties:
opening raises nothing but the project's own errors, within seconds; what opens answers reads."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagevet.errors import ImagevetError
from imagevet.model import Unknown
from imagevet.target import open_target
from tests.conftest import FIXTURES
from tests.support.disks import disk_tools_available, make_disk

pytestmark = pytest.mark.real
FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    if not disk_tools_available():
        pytest.skip("sfdisk, mkfs.ext4 or qemu-img is not installed")
    folder = tmp_path_factory.mktemp("fuzz-disks")
    made = {}
    for fmt in ("qcow2", "vmdk"):
        (folder / fmt).mkdir()
        made[fmt] = make_disk(
            FIXTURES / "rootfs/hardened-debian", folder / fmt / f"d.{fmt}", size_mib=64, fmt=fmt
        )
    return {fmt: path.read_bytes() for fmt, path in made.items()}


@st.composite
def damage(draw: st.DrawFn, size: int) -> tuple[list[tuple[int, int]], int]:
    """Byte changes, mostly in the first 256 KiB (headers, L1/L2 tables, grain directory), and a cut."""
    changes = [
        (draw(st.integers(0, min(size, 256 * 1024) - 1)), draw(st.integers(0, 255)))
        for _ in range(draw(st.integers(1, 12)))
    ]
    cut = draw(st.one_of(st.just(size), st.integers(0, size)))
    return changes, cut


def _open(data: bytes, path: Path) -> None:
    path.write_bytes(data)
    start = time.monotonic()
    try:
        target = open_target(f"disk:{path}")
    except ImagevetError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    finally:
        assert time.monotonic() - start < 10
    try:
        for name in ("/etc/os-release", "/etc/passwd", "/etc/ssh/sshd_config"):
            assert isinstance(target.read_text(name), str | Unknown)
        target.list_dir("/etc")
    finally:
        target.close()


@pytest.mark.parametrize("fmt", ["qcow2", "vmdk"])
def test_damaged_disk_metadata(images: dict[str, bytes], tmp_path: Path, fmt: str) -> None:
    original = images[fmt]

    @FUZZ
    @given(damage(len(original)))
    def check(change: tuple[list[tuple[int, int]], int]) -> None:
        data = bytearray(original)
        for position, value in change[0]:
            data[position] = value
        _open(bytes(data[: change[1]]), tmp_path / f"fuzz.{fmt}")

    check()
