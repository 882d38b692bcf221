"""Mount options read as the kernel applies them (facts/mounts.py split_options and has_option), against
the real thing: each option list is mounted as a tmpfs in a private mount namespace (util-linux mount,
libmount, as systemd's remount does) and the flags the kernel reports in /proc/self/mounts are compared."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from imagevet.facts.mounts import has_option, split_options

pytestmark = pytest.mark.real

LISTS = [
    "defaults",
    "nodev,nosuid,noexec",
    "nodev,nosuid,noexec,defaults",
    "defaults,nodev",
    "nodev,dev",
    "dev,nodev",
    "exec,user",
    "user,exec",
    "users",
    "owner",
    "group,suid",
    "noexec,exec,noexec",
    "nosuid,size=10M,mode=1777",
]


def kernel_flags(options: str, where: Path) -> set[str]:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.fail("unshare and mount (util-linux) are needed; ./dev.sh test installs them")
    script = f'mount -t tmpfs -o "{options}" tmpfs "{where}" && grep " {where} " /proc/self/mounts'
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split()[3].split(","))


@pytest.mark.parametrize("options", LISTS)
def test_the_options_hold_as_the_kernel_applies_them(options: str, tmp_path: Path) -> None:
    flags = kernel_flags(options, tmp_path)
    for option in ("nodev", "nosuid", "noexec"):
        assert has_option(split_options(options), option) == (option in flags), (options, option, flags)
