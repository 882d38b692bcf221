"""The login facts: TMOUT statements as the shells read them, useradd's defaults, the su stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.logins import (
    TimeoutLine,
    gather_su_stack,
    gather_timeout,
    gather_useradd_defaults,
    parse_timeout_lines,
)
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TMOUT=900", [("900", False, False)]),
        ("readonly TMOUT=900", [("900", True, False)]),
        ("export TMOUT=600", [("600", False, True)]),
        ("declare -xr TMOUT=900", [("900", True, True)]),
        ("typeset -rx TMOUT='900'", [("900", True, True)]),
        (
            "TMOUT=900; readonly TMOUT; export TMOUT",
            [("900", False, False), (None, True, False), (None, False, True)],
        ),
        ("readonly HISTFILE TMOUT", [(None, True, False)]),
        ("# TMOUT=900", []),
        ("  TMOUT=900  # fifteen minutes", [("900", False, False)]),
        ("MYTMOUT=900", []),
        ('echo "TMOUT=900"', []),
        ("TMOUT=$LIMIT", [("$LIMIT", False, False)]),
    ],
)
def test_timeout_statements(text: str, expected: list[tuple[str | None, bool, bool]]) -> None:
    lines = parse_timeout_lines(text, "/etc/profile")
    assert [(t.value, t.readonly, t.exported) for t in lines] == expected


def test_profile_d_is_read_in_order(tmp_path: Path) -> None:
    (tmp_path / "etc/profile.d").mkdir(parents=True)
    (tmp_path / "etc/profile").write_text("TMOUT=600\n")
    (tmp_path / "etc/profile.d/b.sh").write_text("export TMOUT\n")
    (tmp_path / "etc/profile.d/a.sh").write_text("readonly TMOUT\n")
    (tmp_path / "etc/profile.d/c.csh").write_text("set TMOUT=1\n")  # not a .sh: not read by sh
    lines = gather_timeout(RootfsTarget(str(tmp_path)))
    assert lines == (
        TimeoutLine("600", False, False, "/etc/profile", 1),
        TimeoutLine(None, True, False, "/etc/profile.d/a.sh", 1),
        TimeoutLine(None, False, True, "/etc/profile.d/b.sh", 1),
    )


def test_an_unreadable_profile_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "etc/profile").mkdir(parents=True)  # a directory where a file should be
    assert isinstance(gather_timeout(RootfsTarget(str(tmp_path))), Unknown)


def test_useradd_defaults(tmp_path: Path) -> None:
    target = RootfsTarget(str(tmp_path))
    assert gather_useradd_defaults(target) is None
    (tmp_path / "etc/default").mkdir(parents=True)
    (tmp_path / "etc/default/useradd").write_text('SHELL=/bin/sh\n# INACTIVE=-1\nINACTIVE="30"\n')
    defaults = gather_useradd_defaults(target)
    assert not isinstance(defaults, Unknown) and defaults is not None
    assert (defaults["INACTIVE"].value, defaults["INACTIVE"].line) == ("30", 3)


def test_the_su_stack_of_the_overlays() -> None:
    passing = gather_su_stack(RootfsTarget(str(FIXTURES / "cases/cis-pass")))
    assert not isinstance(passing, Unknown) and passing is not None
    wheel = [m for m in passing if m.module == "pam_wheel.so"]
    assert [(m.control, m.arguments) for m in wheel] == [("required", ("use_uid", "group=sugroup"))]
    assert gather_su_stack(RootfsTarget(str(FIXTURES / "rootfs/hardened-debian"))) is None
