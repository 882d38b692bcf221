"""login.defs: shadow's NAME VALUE lines, last one winning; unreadable is Unknown, never "no settings"."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.logindefs import LoginDefs, gather_login_defs, parse_login_defs
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant

DEBIAN = FIXTURES / "cases/cis-fail/etc/login.defs"  # Debian 12's file (see that overlay's HOW.md)


def test_debian_12_file() -> None:
    values = parse_login_defs(DEBIAN.read_text())
    assert values["PASS_MAX_DAYS"][0] == "99999" and values["UMASK"][0] == "022"
    assert values["ENV_SUPATH"][0].startswith("PATH=")
    line = values["PASS_MAX_DAYS"][1]
    assert DEBIAN.read_text().splitlines()[line - 1].startswith("PASS_MAX_DAYS")


def test_comments_blank_and_truncated_lines_and_the_last_value_wins() -> None:
    text = "# PASS_MAX_DAYS 1\n\nPASS_MAX_DAYS 90\nPASS_MIN_DAYS\n  UMASK\t077 # trailing\nPASS_MAX_DAYS 60"
    assert parse_login_defs(text) == {"PASS_MAX_DAYS": ("60", 6), "UMASK": ("077", 5)}


def test_missing_file_is_unknown(tmp_path: Path) -> None:
    assert isinstance(gather_login_defs(RootfsTarget(str(tmp_path))), Unknown)


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_unknown(tmp_path: Path, kind: str) -> None:
    plant(tmp_path, "/etc/login.defs", kind)
    found = gather_login_defs(RootfsTarget(str(tmp_path)))
    assert isinstance(found, Unknown), found


def test_a_readable_file(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/login.defs").write_text("UMASK 027\n")
    assert gather_login_defs(RootfsTarget(str(tmp_path))) == LoginDefs({"UMASK": ("027", 1)})
