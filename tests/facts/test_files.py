"""System file modes and owners, host keys, and /etc/group ids (first entry wins, as glibc reads it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagevet.facts.files import FileMode, gather_system_files, parse_group_ids
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant

GROUP = FIXTURES / "cases/cis-pass/etc/group"  # Debian 12's first 30 groups, games and nogroup (base-passwd)


def test_debian_group_file() -> None:
    ids = parse_group_ids(GROUP.read_text())
    assert ids["root"] == 0 and ids["shadow"] == 42 and ids["nogroup"] == 65534 and len(ids) == 33


def test_first_entry_wins_and_malformed_lines_are_skipped() -> None:
    text = "shadow:x:42:\nshadow:x:7:\nbroken\nnogid:x::\nwide:x:\u00b2:\n+nis\n"
    assert parse_group_ids(text) == {"shadow": 42}


def test_modes_owners_and_host_keys(tmp_path: Path) -> None:
    (tmp_path / "etc/ssh").mkdir(parents=True)
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    os.chmod(tmp_path / "etc/passwd", 0o644)
    for name in ("ssh_host_rsa_key", "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"):
        (tmp_path / "etc/ssh" / name).write_text("x\n")
    files = gather_system_files(RootfsTarget(str(tmp_path)))
    mode = files.mode("/etc/passwd")
    assert isinstance(mode, FileMode) and mode.mode == 0o644 and mode.uid == os.getuid()
    assert files.host_keys == ("/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key")
    assert "/etc/gshadow" not in files.present and isinstance(files.mode("/etc/gshadow"), Unknown)
    assert files.gid("root") == 0 and files.gid("shadow") is None  # no /etc/group


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_group_file_gives_no_ids(tmp_path: Path, kind: str) -> None:
    plant(tmp_path, "/etc/group", kind)
    assert gather_system_files(RootfsTarget(str(tmp_path))).group_ids == {}


def test_a_link_outside_is_judged_where_it_leads_inside_the_image(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.symlink("/../../../../etc/shadow", tmp_path / "etc/passwd")  # the host's shadow must not be stat'ed
    assert isinstance(gather_system_files(RootfsTarget(str(tmp_path))).mode("/etc/passwd"), Unknown)
