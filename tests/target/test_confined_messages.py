"""Reasons that name a path reached through the image's links show it escaped and cut short: a link in a
hostile image cannot write escape sequences to the terminal, or megabytes into a report."""

from __future__ import annotations

import os
from pathlib import Path

from imagevet.model import Unknown
from imagevet.target.rootfs import RootfsTarget


def test_link_text_in_reasons_is_escaped_and_bounded(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "var").mkdir()
    os.symlink("/var/\x1b[31mRED\x07" + "a" * 300, tmp_path / "etc/os-release")
    reason = RootfsTarget(str(tmp_path)).read_text("/etc/os-release")
    assert isinstance(reason, Unknown)
    assert "\x1b" not in reason.reason and "\x07" not in reason.reason
    assert "\\x1b[31mRED\\x07" in reason.reason and len(reason.reason) < 300
