"""The packages table: aligned columns when they fit the width, else stacked; names and versions whole."""

from __future__ import annotations

import datetime as dt

import pytest

from imagevet.facts.os_release import gather_os_release
from imagevet.inventory.collect import collect_inventory
from imagevet.model import OsRelease
from imagevet.report import packages
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES


def document() -> dict[str, object]:
    target = RootfsTarget(str(FIXTURES / "rootfs" / "hardened-debian"))
    found = gather_os_release(target)
    os_known = found if isinstance(found, OsRelease) else None
    inventory = collect_inventory(target, os_known)
    report = packages.PackagesReport(
        target.info, os_known, inventory, dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    )
    return packages.document(report)


@pytest.mark.parametrize("width", [40, 80, 200])
def test_names_and_versions_are_whole_at_any_width(width: int) -> None:
    data = document()
    text = packages.render(data, packages.Format.TABLE, width=width)
    lines = text.splitlines()
    assert all(len(line) <= width or len(line.split()) == 1 for line in lines), text
    words = {word.strip("()") for line in lines for word in line.split()}
    listed = data["packages"]
    assert isinstance(listed, list) and listed
    for package in listed:
        assert {package["name"], package["version"], package["arch"]} <= words


def test_columns_when_they_fit_and_stacked_when_they_do_not() -> None:
    data = document()
    wide = packages.render(data, packages.Format.TABLE, width=200).splitlines()
    assert wide[1].split() == ["type", "name", "version", "arch", "source"]
    assert "  deb   libc6                2.36-9+deb12u14     amd64  glibc 2.36-9+deb12u14" in wide
    narrow = packages.render(data, packages.Format.TABLE, width=40).splitlines()
    assert "  deb  libc6  amd64" in narrow
    below = narrow.index("  deb  libc6  amd64") + 1
    assert narrow[below : below + 2] == ["      2.36-9+deb12u14 (source glibc", "      2.36-9+deb12u14)"]
