"""sudoers Defaults settings, read in sudo's order: /etc/sudoers and what it includes (sudoers(5)). No
sudoers is "not installed"; a sudoers file that cannot be read makes the fact Unknown (sudo would refuse
to run), a missing include or a directory where a file was named is passed over, as sudo does."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.sudoers import Include, Sudoers, SudoSetting, gather_sudoers, parse_settings
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant

PASSING = FIXTURES / "cases/cis-pass"


def _gather(root: Path) -> Sudoers:
    found = gather_sudoers(RootfsTarget(str(root)))
    assert isinstance(found, Sudoers), found
    return found


def _write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        file = root / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)


def test_debian_12_sudoers_and_its_drop_ins() -> None:
    found = _gather(PASSING)
    assert [s.name for s in found.settings][:2] == ["env_reset", "mail_badpass"]
    assert found.files == (
        "/etc/sudoers",
        "/etc/sudoers.d/60-imagevet-logfile",
        "/etc/sudoers.d/70-imagevet-timeout",
    )
    logfile = found.global_value("logfile")
    assert logfile == SudoSetting(
        "logfile",
        False,
        "=",
        "/var/log/sudo.log",
        "",
        "/etc/sudoers.d/60-imagevet-logfile",
        1,
        'Defaults logfile="/var/log/sudo.log"',
    )


def test_settings_scopes_negation_and_other_lines() -> None:
    text = (
        "root ALL=(ALL) ALL\n  Defaults:alice !use_pty\n# Defaults use_pty\nDefaults>root logfile=/x\n"
        'Defaults !!authenticate, timestamp_timeout = 5 # five minutes\nDefaults\tenv_keep += "A, B"\n'
        "Defaults!/bin/sh !authenticate\nDefaultsuse_pty\n"
    )
    items = parse_settings(text, "/etc/sudoers")
    got = [(s.name, s.negated, s.op, s.value, s.scope, s.line) for s in items if isinstance(s, SudoSetting)]
    assert got == [
        ("use_pty", True, "", None, ":alice", 2),
        ("logfile", False, "=", "/x", ">root", 4),
        ("authenticate", False, "", None, "", 5),  # two ! cancel out
        ("timestamp_timeout", False, "=", "5", "", 5),
        ("env_keep", False, "+=", "A, B", "", 6),  # the comma is inside quotes
        ("authenticate", True, "", None, "!/bin/sh", 7),
    ]


def test_continued_lines_are_joined() -> None:
    items = parse_settings("Defaults use_pty, \\\n   !authenticate\n", "/etc/sudoers")
    assert [(s.name, s.negated, s.line) for s in items if isinstance(s, SudoSetting)] == [
        ("use_pty", False, 1),
        ("authenticate", True, 1),
    ]


def test_include_directives_old_and_new_spelling() -> None:
    items = parse_settings(
        '#includedir /etc/sudoers.d\n@include extra\n#include "/etc/x y"\n', "/etc/sudoers"
    )
    assert items == [
        Include("includedir", "/etc/sudoers.d"),
        Include("include", "extra"),
        Include("include", "/etc/x y"),
    ]


def test_sudo_reads_includes_where_they_stand_and_skips_names_with_a_dot(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "/etc/sudoers": (
                "Defaults use_pty\n@includedir /etc/sudoers.d\n@include local\nDefaults timestamp_timeout=1\n"
            ),
            "/etc/sudoers.d/10-a": "Defaults timestamp_timeout=30\n",
            "/etc/sudoers.d/20-b.bak": "Defaults !use_pty\n",  # sudo skips names with a dot
            "/etc/sudoers.d/30-c~": "Defaults !use_pty\n",  # and names ending in ~
            "/etc/local": "Defaults logfile=/var/log/sudo.log\n",  # relative to /etc/sudoers's directory
        },
    )
    found = _gather(tmp_path)
    assert found.files == ("/etc/sudoers", "/etc/sudoers.d/10-a", "/etc/local")
    assert [(s.name, s.value) for s in found.settings] == [
        ("use_pty", None),
        ("timestamp_timeout", "30"),
        ("logfile", "/var/log/sudo.log"),
        ("timestamp_timeout", "1"),
    ]
    assert found.global_value("timestamp_timeout").value == "1"  # type: ignore[union-attr]


def test_include_loops_are_cut_off_as_unknown(tmp_path: Path) -> None:
    _write(tmp_path, {"/etc/sudoers": "@include /etc/sudoers\n"})
    found = gather_sudoers(RootfsTarget(str(tmp_path)))
    assert isinstance(found, Unknown) and "nest deeper" in found.reason


def test_a_missing_include_and_a_directory_are_passed_over(tmp_path: Path) -> None:
    _write(tmp_path, {"/etc/sudoers": "@include /etc/nothing\n@include /etc/adir\nDefaults use_pty\n"})
    (tmp_path / "etc/adir").mkdir()
    assert _gather(tmp_path).files == ("/etc/sudoers",)


def test_no_sudoers_means_not_installed(tmp_path: Path) -> None:
    assert gather_sudoers(RootfsTarget(str(tmp_path))) is None


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_sudoers_file_is_unknown_wherever_it_is(tmp_path: Path, kind: str) -> None:
    plant(tmp_path, "/etc/sudoers", kind)
    found = gather_sudoers(RootfsTarget(str(tmp_path)))
    if kind == "link-outside":  # re-rooted: the image's /etc/login.defs (absent), never the host's
        assert found is None
        (tmp_path / "etc/login.defs").write_text("Defaults use_pty\n")
        found = gather_sudoers(RootfsTarget(str(tmp_path)))
        assert isinstance(found, Sudoers) and found.files == ("/etc/sudoers",)
    else:
        assert isinstance(found, Unknown) and "/etc/sudoers" in found.reason
    (tmp_path / "etc/sudoers").unlink()
    (tmp_path / "etc/login.defs").unlink(missing_ok=True)
    (tmp_path / "etc/sudoers").write_text("Defaults use_pty\n@includedir /etc/sudoers.d\n")
    plant(tmp_path, "/etc/sudoers.d/90-bad", kind)
    found = gather_sudoers(RootfsTarget(str(tmp_path)))
    if kind == "link-outside":  # the image's own /etc/login.defs, absent now: passed over
        assert isinstance(found, Sudoers) and found.files == ("/etc/sudoers",)
    else:  # a drop-in sudo cannot parse: sudo refuses to run, and imagevet cannot decide
        assert isinstance(found, Unknown) and "90-bad" in found.reason


@pytest.mark.parametrize(
    ("line", "scope"),
    [
        ("Defaults:alice, bob !authenticate", ":alice, bob"),
        ("Defaults:alice,#1001 !authenticate", ":alice,#1001"),
        ("Defaults!/bin/sh, /bin/bash !authenticate  # shells", "!/bin/sh, /bin/bash"),
    ],
)
def test_a_scope_list_with_blanks_or_a_uid_keeps_its_setting(line: str, scope: str) -> None:
    """Both were read as the scope's first word and the setting dropped, so sudo-authenticate passed while
    sudo -l showed !authenticate for bob (uid 1001); found by the red-team of issue 20."""
    [setting] = parse_settings(line + "\n", "/etc/sudoers.d/x")
    assert isinstance(setting, SudoSetting)
    assert (setting.name, setting.negated, setting.scope) == ("authenticate", True, scope)
