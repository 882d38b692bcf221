"""Roots the hardening outputs are applied in: real debootstrap roots (tests/support/debian_root.py),
each cached outside the repository under a key of its package list.

- ``base``: the shared end-to-end root (minbase + openssh-server, cloud-init, sudo): no systemd at all;
- ``no-systemctl``: the same with unattended-upgrades, so updates-automatic can be fixed without the
  network, and still no systemctl (as in an image whose init is not installed yet, or not systemd);
- ``systemctl-offline``: the same with systemd, whose systemctl is there but cannot talk to a running
  systemd, because PID 1 of a chroot is not systemd (the chroot has no /run/systemd/system)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.debian_root import ensure_debian_root
from tests.support.rpmrepo import tools_root

VARIANTS: dict[str, tuple[str, ...]] = {
    "base": (),
    "no-systemctl": ("unattended-upgrades",),
    "systemctl-offline": ("systemd", "unattended-upgrades"),
}


def variant_root(name: str) -> Path:
    try:
        return ensure_debian_root(VARIANTS[name])
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot build the debootstrap root ({name}): {exc}")


@pytest.fixture(scope="session")
def systemd_root() -> Path:
    return variant_root("systemctl-offline")


@pytest.fixture
def rhel_copy(tmp_path: Path) -> Path:
    """A private copy of the root with dnf and rpm (tests/support/rpmrepo.py), for make_rhel_shaped."""
    try:
        source = tools_root()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot build the debootstrap root with dnf: {exc}")
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(source), str(root)], check=True)
    return root
