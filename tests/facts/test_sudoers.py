"""sudoers Defaults lines: /etc/sudoers and its drop-ins; no sudoers is "not installed", an unreadable
main file is Unknown, an unreadable drop-in is passed over (as sudo does)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.sudoers import SudoDefault, Sudoers, gather_sudoers, parse_defaults
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant

PASSING = FIXTURES / "cases/cis-pass"


def test_debian_12_sudoers_and_a_drop_in() -> None:
    found = gather_sudoers(RootfsTarget(str(PASSING)))
    assert isinstance(found, Sudoers)
    texts = [d.text for d in found.defaults]
    assert texts[:2] == ["Defaults\tenv_reset", "Defaults\tmail_badpass"] and "Defaults\tuse_pty" in texts
    assert found.defaults[-1] == SudoDefault(
        'Defaults logfile="/var/log/sudo.log"', "/etc/sudoers.d/60-imagevet-logfile", 1
    )


def test_user_and_runas_defaults_count_and_other_lines_do_not() -> None:
    text = "root ALL=(ALL) ALL\n  Defaults:alice !use_pty\n# Defaults use_pty\nDefaults>root logfile=/x\n"
    assert [(d.text, d.line) for d in parse_defaults(text, "/etc/sudoers")] == [
        ("Defaults:alice !use_pty", 2),
        ("Defaults>root logfile=/x", 4),
    ]


def test_no_sudoers_means_not_installed(tmp_path: Path) -> None:
    assert gather_sudoers(RootfsTarget(str(tmp_path))) is None


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_main_file_is_unknown_and_a_hostile_drop_in_is_passed_over(
    tmp_path: Path, kind: str
) -> None:
    plant(tmp_path, "/etc/sudoers", kind)
    found = gather_sudoers(RootfsTarget(str(tmp_path)))
    if kind == "link-outside":  # re-rooted: the image's /etc/login.defs (absent), never the host's
        assert found is None
        (tmp_path / "etc/login.defs").write_text("Defaults use_pty\n")
        found = gather_sudoers(RootfsTarget(str(tmp_path)))
        assert isinstance(found, Sudoers) and found.defaults[0].path == "/etc/sudoers"
    else:
        assert isinstance(found, Unknown)
    (tmp_path / "etc/sudoers").unlink()
    (tmp_path / "etc/login.defs").unlink(missing_ok=True)
    (tmp_path / "etc/sudoers").write_text("Defaults use_pty\n")
    plant(tmp_path, "/etc/sudoers.d/90-bad", kind)
    found = gather_sudoers(RootfsTarget(str(tmp_path)))
    assert isinstance(found, Sudoers) and [d.text for d in found.defaults] == ["Defaults use_pty"]
