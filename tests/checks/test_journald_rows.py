"""logging-journald-compress, -storage and -no-forward (journald value rows) and sysctl-ptrace-scope, on
copies of the hardened-debian fixture (no journald.conf of its own, no ptrace setting)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.model import Status
from tests.checks.support import statuses

P, F, E = Status.PASS, Status.FAIL, Status.ERROR
JOURNALD = ["logging-journald-compress", "logging-journald-storage"]
# The fields dpkg-query needs of Debian 12's rsyslog stanza (apt-cache show rsyslog, reduced).
RSYSLOG = (
    "\nPackage: rsyslog\nStatus: install ok installed\nPriority: important\nSection: admin\n"
    "Maintainer: Michael Biebl <biebl@debian.org>\nArchitecture: amd64\nVersion: 8.2302.0-1\n"
    "Description: reliable system and kernel logging daemon\n"
)


def _journald(root: Path, main: str, drop_in: str | None = None) -> list[Status]:
    daemon = root / "usr/lib/systemd/systemd-journald"  # only its presence is read
    daemon.parent.mkdir(parents=True, exist_ok=True)
    daemon.touch()
    conf = root / "etc/systemd/journald.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(main)
    if drop_in is not None:
        (root / "etc/systemd/journald.conf.d").mkdir(exist_ok=True)
        (root / "etc/systemd/journald.conf.d/50-site.conf").write_text(drop_in)
    found = statuses(root, JOURNALD)
    return [found[c] for c in JOURNALD]


@pytest.mark.parametrize(
    ("main", "expected"),
    [
        ("[Journal]\n#Compress=yes\n#Storage=auto\n", [F, F]),  # Debian's: journald's defaults, set nowhere
        ("[Journal]\nCompress=yes\nStorage=persistent\n", [P, P]),
        ("[Journal]\nCompress=true\nStorage=auto\n", [P, F]),
        ("[Journal]\nCompress=no\nStorage=volatile\n", [F, F]),
        ("[Journal]\nCompress=Yes\nStorage=Persistent\n", [P, F]),  # booleans in any case; Storage as written
        ("[Journal]\nCompress=maybe\nStorage=persistent\n", [F, P]),  # no boolean: journald ignores it
        ("Compress=yes\nStorage=persistent\n", [F, F]),  # no [Journal] header: journald ignores them
    ],
)
def test_journald_rows(debian: Path, main: str, expected: list[Status]) -> None:
    assert _journald(debian, main) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("#ForwardToSyslog=yes\n", F),  # Debian's: left to the build's default (Debian's forwards)
        ("ForwardToSyslog=no\n", P),
        ("ForwardToSyslog=off\n", P),
        ("ForwardToSyslog=yes\n", F),
        ("ForwardToSyslog=no\nForwardToSyslog=yes\n", F),  # the last one wins
        ("ForwardToSyslog=NO\n", P),  # systemd's parse_boolean takes any case
        ("ForwardToSyslog=nope\n", F),  # no boolean: journald ignores it, and keeps its default
    ],
)
def test_forward_to_syslog(debian: Path, line: str, expected: Status) -> None:
    daemon = debian / "usr/lib/systemd/systemd-journald"
    daemon.parent.mkdir(parents=True, exist_ok=True)
    daemon.touch()
    (debian / "etc/systemd").mkdir(parents=True, exist_ok=True)
    (debian / "etc/systemd/journald.conf").write_text("[Journal]\n" + line)
    assert statuses(debian, ["logging-journald-no-forward"]) == {"logging-journald-no-forward": expected}


def test_a_drop_in_wins_over_journald_conf(debian: Path) -> None:
    good = "[Journal]\nCompress=yes\nStorage=persistent\n"
    assert _journald(debian, good, "[Journal]\nStorage=volatile\n") == [P, F]
    assert _journald(debian, "[Journal]\n", good) == [P, P]


def test_no_journald_or_a_syslog_daemon_is_a_skip(debian: Path) -> None:
    good = "[Journal]\nCompress=yes\nStorage=persistent\n"
    assert _journald(debian, good) == [P, P]
    (debian / "usr/lib/systemd/systemd-journald").unlink()
    assert statuses(debian, JOURNALD) == dict.fromkeys(JOURNALD, Status.SKIP)
    (debian / "usr/lib/systemd/systemd-journald").touch()
    status = debian / "var/lib/dpkg/status"
    status.write_text(status.read_text() + RSYSLOG)
    assert statuses(debian, JOURNALD) == dict.fromkeys(JOURNALD, Status.SKIP)


def test_an_unreadable_drop_in_is_an_error(debian: Path) -> None:
    (debian / "etc/systemd/journald.conf.d").mkdir(parents=True)
    (debian / "etc/systemd/journald.conf.d/50-bin.conf").write_bytes(b"\xff\xfe[Journal]\n")
    assert _journald(debian, "[Journal]\nCompress=yes\nStorage=persistent\n") == [E, E]


@pytest.mark.parametrize(
    ("value", "expected"), [(None, F), ("0", F), ("1", P), ("2", P), ("3", P), ("4", F), ("restricted", E)]
)
def test_ptrace_scope(debian: Path, value: str | None, expected: Status) -> None:
    """1 to 3 set in a sysctl file; unset is Yama's default of 1, which CIS's audit does not count."""
    if value is not None:
        (debian / "etc/sysctl.d/60-ptrace.conf").write_text(f"kernel.yama.ptrace_scope = {value}\n")
    assert statuses(debian, ["sysctl-ptrace-scope"])["sysctl-ptrace-scope"] is expected
