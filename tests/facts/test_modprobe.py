"""modprobe.d ``install`` lines, from every readable /etc/modprobe.d/*.conf in lexical order."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.modprobe import gather_modprobe, parse_install_lines
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant


def test_the_cis_overlay() -> None:
    lines = gather_modprobe(RootfsTarget(str(FIXTURES / "cases/cis-pass")))
    assert [line.module for line in lines] == [
        "cramfs",
        "freevxfs",
        "hfs",
        "hfsplus",
        "jffs2",
        "udf",
        "usb-storage",
    ]
    assert lines[0].command == "/bin/false" and lines[0].line == 1 and lines[-2].line == 11


def test_syntax_other_commands_and_short_lines() -> None:
    text = (
        "# install cramfs /bin/false\nblacklist udf\ninstall usb-storage\n  install  hfs   /bin/true  # x\n"
    )
    found = parse_install_lines(text, "/etc/modprobe.d/a.conf")
    assert [(f.module, f.command, f.text, f.line) for f in found] == [
        ("hfs", "/bin/true", "install  hfs   /bin/true  # x", 4)
    ]


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_passed_over(tmp_path: Path, kind: str) -> None:
    (tmp_path / "etc/modprobe.d").mkdir(parents=True)
    (tmp_path / "etc/modprobe.d/a.conf").write_text("install udf /bin/false\n")
    plant(tmp_path, "/etc/modprobe.d/b.conf", kind)
    assert [line.module for line in gather_modprobe(RootfsTarget(str(tmp_path)))] == ["udf"]
