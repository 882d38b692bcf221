"""accounts-password-change-past on shadow files written here: the change dates glibc reads, judged
against the audit date (AS_OF, 2026-11-28: day 20785)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.checks.support import AS_OF

TODAY = 20785  # (AS_OF - 1970-01-01).days
PASSWD = "root:x:0:0::/root:/bin/bash\nbob:x:1000:1000::/home/bob:/bin/bash\n"


def judge(tmp_path: Path, shadow: str | None) -> tuple[Status, list[str]]:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(PASSWD)
    if shadow is not None:
        (root / "etc/shadow").write_text(shadow)
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), ["accounts-password-change-past"])
    (result,) = report.results
    return result.status, [str(e) for e in result.evidence]


@pytest.mark.parametrize(
    ("line", "status"),
    [
        (f"bob:$6$x$y:{TODAY}:0:99999:7:::", Status.PASS),  # today itself is not after today
        (f"bob:$6$x$y:{TODAY + 1}:0:99999:7:::", Status.FAIL),
        (f"bob:!$6$x$y:{TODAY + 1}:0:99999:7:::", Status.PASS),  # a locked password is left out
        (f"bob:*:{TODAY + 1}:0:99999:7:::", Status.PASS),
        (f"bob::{TODAY + 1}:0:99999:7:::", Status.PASS),  # empty: accounts-empty-password's business
        ("bob:$6$x$y::0:99999:7:::", Status.PASS),  # no date
        ("bob:$6$x$y:0:0:99999:7:::", Status.PASS),  # 0: change at next login
        ("bob:$6$x$y:4294967295:0:99999:7:::", Status.PASS),  # glibc: (int) -1, not set
        ("bob:$6$x$y:2147483648:0:99999:7:::", Status.PASS),  # glibc: a day before 1970
        ("bob:$6$x$y:2147483647:0:99999:7:::", Status.FAIL),  # past what a calendar date holds
        ("bob:$6$x$y:1e5:0:99999:7:::", Status.PASS),  # glibc skips the line: no account to judge
    ],
)
def test_change_dates(tmp_path: Path, line: str, status: Status) -> None:
    assert judge(tmp_path, f"root:*:{TODAY}:0:99999:7:::\n{line}\n")[0] is status


def test_the_evidence_names_the_account_date_and_line(tmp_path: Path) -> None:
    shadow = f"root:*:{TODAY}::::::\nbob:$6$x$y:30000:0:99999:7:::\nbob:$6$x$y:40000::::::\n"
    assert judge(tmp_path, shadow) == (
        Status.FAIL,
        ["account bob last changed its password on 2052-02-20, after 2026-11-28 (/etc/shadow:2)"],
    )  # the second bob is never read (getspnam returns the first)
    far = judge(tmp_path / "far", "bob:$6$x$y:2147483647::::::\n")[1]
    assert far == [
        "account bob last changed its password on day 2147483647 after 1970-01-01, after 2026-11-28"
        " (/etc/shadow:1)"
    ]


def test_no_shadow_is_a_skip_and_an_unreadable_one_an_error(tmp_path: Path) -> None:
    assert judge(tmp_path / "none", None)[0] is Status.SKIP
    root = tmp_path / "dir"
    (root / "etc/shadow").mkdir(parents=True)
    (root / "etc/passwd").write_text(PASSWD)
    report = run_audit(RootfsTarget(str(root)), CheckOptions(AS_OF), ["accounts-password-change-past"])
    assert report.results[0].status is Status.ERROR
