"""Our effective sshd configuration must agree with the real ``sshd -T`` on the same files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imagevet.facts.sshd import MODELED, SshdConfig, gather_sshd
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.support.sshd_oracle import host_key, sshd_available, sshd_t

CASES = sorted(p.name for p in (FIXTURES / "sshd").iterdir() if p.is_dir())
# sshd -T prints PermitRootLogin's first spelling of the value; both spellings mean the same.
SSHD_SPELLING = {"without-password": "prohibit-password"}

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not sshd_available():
        pytest.skip("OpenSSH server (sshd) or unshare is not installed")
    return host_key(tmp_path_factory.mktemp("hostkey"))


def ours(root: Path) -> SshdConfig:
    config = gather_sshd(RootfsTarget(str(root)))
    assert isinstance(config, SshdConfig), config
    return config


def assert_agrees(root: Path, key: Path) -> None:
    real = sshd_t(root, key)
    config = ours(root)
    if real.returncode != 0:
        assert config.fatal, f"sshd refused the configuration ({real.stderr.strip()}) but we did not"
        return
    assert not config.fatal, f"sshd accepted the configuration but we report {config.fatal}"
    for keyword in MODELED:
        expected = SSHD_SPELLING.get(real.values[keyword], real.values[keyword])
        assert config.get(keyword).value == expected, f"{keyword}: sshd -T says {expected!r}"


def test_enough_layouts() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES)
def test_layout_agrees_with_sshd(case: str, key: Path) -> None:
    assert_agrees(FIXTURES / "sshd" / case, key)


def _include_chain(root: Path, depth: int) -> None:
    ssh = root / "etc" / "ssh"
    ssh.mkdir(parents=True)
    (ssh / "sshd_config").write_text("Include /etc/ssh/chain-1.conf\n")
    for level in range(1, depth + 1):
        follow = f"Include /etc/ssh/chain-{level + 1}.conf\n" if level < depth else "PermitRootLogin no\n"
        (ssh / f"chain-{level}.conf").write_text(follow)


@pytest.mark.parametrize("depth", [16, 17])
def test_include_depth_limit_agrees_with_sshd(depth: int, key: Path, tmp_path: Path) -> None:
    _include_chain(tmp_path, depth)
    assert_agrees(tmp_path, key)
    assert bool(ours(tmp_path).fatal) is (depth > 16)


def test_debian_root_agrees_with_sshd(debian_root: Path, key: Path, tmp_path: Path) -> None:
    """The debootstrap root's own configuration, read through a copy of its /etc/ssh."""
    copy = tmp_path / "root"
    shutil.copytree(debian_root / "etc" / "ssh", copy / "etc" / "ssh", symlinks=True)
    assert_agrees(copy, key)
