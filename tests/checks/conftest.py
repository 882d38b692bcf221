"""Fixtures of the check tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES


@pytest.fixture
def debian(tmp_path: Path) -> Path:
    """A writable copy of the hardened-debian fixture root."""
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "rootfs/hardened-debian", root, symlinks=True)
    return root
