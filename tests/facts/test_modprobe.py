"""modprobe.d ``install`` lines, read as kmod reads them (facts/modprobe.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.modprobe import gather_modprobe, parse_install_lines, wrapped_lines
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant


def test_the_cis_overlay() -> None:
    lines = gather_modprobe(RootfsTarget(str(FIXTURES / "cases/cis-pass")))
    assert not isinstance(lines, Unknown)
    assert [line.module for line in lines] == [
        "cramfs",
        "freevxfs",
        "hfs",
        "hfsplus",
        "jffs2",
        "udf",
        "squashfs",
        "usb-storage",
    ]
    assert lines[0].command == "/bin/false" and lines[0].line == 1 and lines[-3].line == 11


def test_syntax_other_commands_and_short_lines() -> None:
    text = (
        "# install cramfs /bin/false\nblacklist udf\ninstall usb-storage\n  install  hfs   /bin/true  # x\n"
    )
    found = parse_install_lines(text, "/etc/modprobe.d/a.conf")
    assert [(f.module, f.command, f.text, f.line) for f in found] == [
        ("hfs", "/bin/true  # x", "install  hfs   /bin/true  # x", 4)
    ]


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_unknown_or_passed_over_as_modprobe_would(tmp_path: Path, kind: str) -> None:
    """A file that is there but cannot be read could hold the first install line: Unknown. A link out of
    the image is re-rooted; where it then points at nothing, modprobe cannot open it either."""
    (tmp_path / "etc/modprobe.d").mkdir(parents=True)
    (tmp_path / "etc/modprobe.d/a.conf").write_text("install udf /bin/false\n")
    plant(tmp_path, "/etc/modprobe.d/b.conf", kind)
    found = gather_modprobe(RootfsTarget(str(tmp_path)))
    if kind == "link-outside":
        assert not isinstance(found, Unknown) and [line.module for line in found] == ["udf"]
    else:
        assert isinstance(found, Unknown) and found.reason.startswith("/etc/modprobe.d/b.conf: ")


def test_wrapped_lines_join_on_a_trailing_backslash() -> None:
    assert wrapped_lines("a \\\nb\nc\\\n") == [(1, "a b"), (3, "c")]
