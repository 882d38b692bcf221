"""AIDE's database and schedule, on the hardened-debian fixture with Debian 12's aide configuration
(database_in=file:/var/lib/aide/aide.db, from aide-common 0.18.3's /usr/share/aide/config/aide/aide.conf)
and the Red Hat form (@@{DBDIR}/aide.db.gz): the aide package is added to the fixture's dpkg status."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.aide import database_path, runs_check
from imagevet.model import Status
from tests.checks.support import statuses
from tests.facts.hostile import HOSTILE, plant

P, F, E = Status.PASS, Status.FAIL, Status.ERROR
CHECKS = ["aide-database", "aide-periodic"]
DEBIAN_CONF = "database_in=file:/var/lib/aide/aide.db\ndatabase_out=file:/var/lib/aide/aide.db.new\n"
RHEL_CONF = "@@define DBDIR /var/lib/aide\ndatabase_in=file:@@{DBDIR}/aide.db.gz\n"
AIDE_STANZA = (
    "\nPackage: aide\nStatus: install ok installed\nPriority: optional\nSection: admin\n"
    "Maintainer: Debian AIDE Maintainers <aide@packages.debian.org>\nArchitecture: amd64\n"
    "Version: 0.18.3-1+deb12u3\nDescription: Advanced Intrusion Detection Environment - dynamic binary\n"
)


def _with_aide(root: Path, conf: str = DEBIAN_CONF, where: str = "etc/aide/aide.conf") -> None:
    status = root / "var/lib/dpkg/status"
    status.write_text(status.read_text().rstrip("\n") + "\n" + AIDE_STANZA)
    (root / where).parent.mkdir(parents=True, exist_ok=True)
    (root / where).write_text(conf)


def _write(root: Path, path: str, text: str) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text)


def test_without_aide_both_fail(debian: Path) -> None:
    assert statuses(debian, CHECKS) == {"aide-database": F, "aide-periodic": F}


def test_debian_database_and_timer(debian: Path) -> None:
    _with_aide(debian)
    assert statuses(debian, CHECKS) == {"aide-database": F, "aide-periodic": F}
    _write(debian, "var/lib/aide/aide.db", "# a database aide --init wrote\n")
    _write(debian, "lib/systemd/system/dailyaidecheck.timer", "[Timer]\nOnCalendar=daily\n")
    (debian / "etc/systemd/system/timers.target.wants").mkdir(parents=True, exist_ok=True)
    (debian / "etc/systemd/system/timers.target.wants/dailyaidecheck.timer").symlink_to(
        "/lib/systemd/system/dailyaidecheck.timer"
    )
    assert statuses(debian, CHECKS) == {"aide-database": P, "aide-periodic": P}
    (debian / "var/lib/aide/aide.db").write_text("")
    assert statuses(debian, CHECKS)["aide-database"] is F  # an empty file is no database


def test_red_hat_database_with_a_define(debian: Path) -> None:
    _with_aide(debian, RHEL_CONF, "etc/aide.conf")
    _write(debian, "var/lib/aide/aide.db.gz", "x")
    assert statuses(debian, CHECKS)["aide-database"] is P


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        (DEBIAN_CONF, "/var/lib/aide/aide.db"),
        (RHEL_CONF, "/var/lib/aide/aide.db.gz"),
        ("database=file:/var/lib/aide/aide.db\n", "/var/lib/aide/aide.db"),  # AIDE 0.16
        ("database_in=file:/a\ndatabase_in=file:/b\n", "/b"),
        ("database_in=file:@@{NOWHERE}/aide.db\n", None),
        ("database_out=file:/x\n", None),
    ],
)
def test_database_path(conf: str, expected: str | None) -> None:
    assert database_path(conf) == expected


def test_a_config_without_a_database_is_an_error(debian: Path) -> None:
    _with_aide(debian, "database_out=file:/var/lib/aide/aide.db.new\n")
    assert statuses(debian, CHECKS)["aide-database"] is E


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("0 5 * * * root /usr/sbin/aide --check", True),
        ("0 5 * * * /usr/sbin/aide --config /etc/aide.conf --check", True),
        ("0 5 * * 0 root aide -C", True),
        ('0 5 * * * root aide "$AIDEARGS" --update', True),
        ("0 5 * * * root /usr/share/aide/bin/dailyaidecheck", True),
        ("# 0 5 * * * root aide --check", False),
        ("0 5 * * * root aide --init", False),
        ("0 5 * * * root aide --check-later", False),  # not an aide option
        ("0 5 * * * root guide --check", False),
    ],
)
def test_cron_lines(line: str, expected: bool) -> None:
    assert runs_check(line) is expected


def test_a_crontab_or_a_cron_script_schedules_it(debian: Path) -> None:
    _with_aide(debian)
    _write(debian, "etc/cron.d/aide", "# CIS\n0 5 * * * root /usr/sbin/aide --check\n")
    assert statuses(debian, CHECKS)["aide-periodic"] is P
    (debian / "etc/cron.d/aide").unlink()
    _write(debian, "etc/cron.weekly/aide", "#!/bin/sh\n/usr/bin/aide --check | mail root\n")
    assert statuses(debian, CHECKS)["aide-periodic"] is P


def test_a_timer_link_without_its_unit_does_not_count(debian: Path) -> None:
    _with_aide(debian)
    (debian / "etc/systemd/system/timers.target.wants").mkdir(parents=True, exist_ok=True)
    (debian / "etc/systemd/system/timers.target.wants/aidecheck.timer").symlink_to("/nowhere/aidecheck.timer")
    assert statuses(debian, CHECKS)["aide-periodic"] is F


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files(debian: Path, kind: str) -> None:
    _with_aide(debian)
    plant(debian, "/etc/cron.d/aide", kind)
    expected = F if kind == "link-outside" else E  # a cron file that cannot be read may hold the schedule
    assert statuses(debian, CHECKS)["aide-periodic"] is expected
    plant(debian, "/etc/aide/aide.conf", kind)
    database = statuses(debian, CHECKS)["aide-database"]
    assert database is E  # unreadable, or (re-rooted link) the image's own file, which names no database


def test_a_huge_crontab_line_is_read_in_linear_time() -> None:
    import time

    started = time.monotonic()
    assert runs_check(" aide x" * 400_000) is False  # 2.8 MB: a backtracking pattern took minutes
    assert time.monotonic() - started < 2
