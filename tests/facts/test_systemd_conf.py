"""systemd Key=Value settings of coredump.conf / journald.conf and their drop-ins, and the journal dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.systemd_conf import (
    COREDUMP_CONF,
    SystemdSetting,
    first_setting,
    gather_journald,
    gather_systemd_conf,
    parse_settings,
)
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant

# systemd 252's /etc/systemd/coredump.conf as Debian 12 ships it (abridged: the comment block).
COREDUMP = """\
[Coredump]
#Storage=external
#Compress=yes
Storage = None
ProcessSizeMax=2G
"""


def test_syntax_is_squeezed_and_lower_cased() -> None:
    assert parse_settings(COREDUMP, COREDUMP_CONF) == [
        SystemdSetting("storage", "none", COREDUMP_CONF, 4),
        SystemdSetting("processsizemax", "2g", COREDUMP_CONF, 5),
    ]


def test_journald_drop_in_of_the_overlay() -> None:
    journald = gather_journald(RootfsTarget(str(FIXTURES / "cases/cis-pass")))
    found = first_setting(journald.settings, "Storage", "persistent")
    assert found is not None and found.path.endswith("60-imagevet-persistent.conf") and found.line == 2
    assert journald.journal_dir is False


def test_the_journal_directory(tmp_path: Path) -> None:
    (tmp_path / "var/log/journal").mkdir(parents=True)
    assert gather_journald(RootfsTarget(str(tmp_path))).journal_dir is True


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_passed_over(tmp_path: Path, kind: str) -> None:
    plant(tmp_path, COREDUMP_CONF, kind)
    (tmp_path / "etc/systemd/coredump.conf.d").mkdir()
    (tmp_path / "etc/systemd/coredump.conf.d/a.conf").write_text("[Coredump]\nStorage=none\n")
    settings = gather_systemd_conf(RootfsTarget(str(tmp_path)), COREDUMP_CONF)
    assert [s.path for s in settings] == ["/etc/systemd/coredump.conf.d/a.conf"]
