"""pam_limits entries of limits.conf and limits.d/*.conf, in reading order."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.limits import Limit, gather_limits, parse_limits
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant


def test_debian_limits_conf_is_all_comments_and_the_drop_in_counts() -> None:
    limits = gather_limits(RootfsTarget(str(FIXTURES / "cases/cis-pass")))
    assert limits == (Limit("*", "hard", "core", "0", "/etc/security/limits.d/60-imagevet-core.conf", 1),)


def test_syntax() -> None:
    text = "#*  soft core 0\n@student - maxlogins 4\n*\thard\tcore\t0\nftp hard nproc\n"
    assert [(x.domain, x.type, x.item, x.value, x.line) for x in parse_limits(text, "/x")] == [
        ("@student", "-", "maxlogins", "4", 2),
        ("*", "hard", "core", "0", 3),
    ]


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_passed_over(tmp_path: Path, kind: str) -> None:
    plant(tmp_path, "/etc/security/limits.conf", kind)
    (tmp_path / "etc/security/limits.d").mkdir()
    (tmp_path / "etc/security/limits.d/a.conf").write_text("* hard core 0\n")
    assert [x.path for x in gather_limits(RootfsTarget(str(tmp_path)))] == ["/etc/security/limits.d/a.conf"]
