"""Time daemons' configuration lines (chrony, timesyncd, ntpd), comments left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.timesync import gather_time_config, parse_config_lines
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES
from tests.facts.hostile import HOSTILE, plant


def test_the_overlay_chrony_conf() -> None:
    lines = gather_time_config(RootfsTarget(str(FIXTURES / "cases/cis-pass")))
    assert [(x.path, x.line) for x in lines] == [
        ("/etc/chrony/chrony.conf", 1),
        ("/etc/chrony/chrony.conf", 2),
    ]
    assert "169.254.169.123" in lines[0].text


def test_comments_of_both_kinds_are_left_out() -> None:
    text = "# server 169.254.169.123\n ; NTP=time.aws.com\n[Time]\nNTP=time.aws.com\n"
    assert [(x.text, x.line) for x in parse_config_lines(text, "/etc/systemd/timesyncd.conf")] == [
        ("[Time]", 3),
        ("NTP=time.aws.com", 4),
    ]


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_passed_over(tmp_path: Path, kind: str) -> None:
    plant(tmp_path, "/etc/chrony/chrony.conf", kind)
    (tmp_path / "etc/systemd").mkdir(parents=True)
    (tmp_path / "etc/systemd/timesyncd.conf").write_text("[Time]\nNTP=metadata.google.internal\n")
    assert [x.path for x in gather_time_config(RootfsTarget(str(tmp_path)))] == [
        "/etc/systemd/timesyncd.conf"
    ] * 2
