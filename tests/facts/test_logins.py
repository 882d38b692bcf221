"""The login facts: TMOUT statements as the shells read them, useradd's defaults, the su stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.logins import gather_su_stack, gather_timeout, gather_useradd_defaults, parse_shells
from imagevet.facts.shell_vars import effects
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TMOUT=900", [("assign", "900")]),
        ("readonly TMOUT=900", [("assign", "900"), ("readonly", None)]),
        ("export TMOUT=600", [("assign", "600"), ("export", None)]),
        ("declare -xr TMOUT=900", [("assign", "900"), ("readonly", None), ("export", None)]),
        ("typeset -rx TMOUT='900'", [("assign", "900"), ("readonly", None), ("export", None)]),
        (
            "TMOUT=900; readonly TMOUT; export TMOUT",
            [("assign", "900"), ("readonly", None), ("export", None)],
        ),
        ("readonly HISTFILE TMOUT", [("readonly", None)]),
        ("# TMOUT=900", []),
        ("  TMOUT=900  # fifteen minutes", [("assign", "900")]),
        ("MYTMOUT=900", []),
        ("TMOUT=$LIMIT", [("assign", "$LIMIT")]),
        ("echo $TMOUT ${TMOUT:-1} ${#TMOUT}", []),  # reading it changes nothing
        (
            "unset TMOUT; export -n TMOUT; declare +x TMOUT",
            [("unset", None), ("unexport", None), ("unexport", None)],
        ),
        ("unset -f TMOUT", []),  # a function of that name
    ],
)
def test_timeout_statements(text: str, expected: list[tuple[str, str | None]]) -> None:
    assert [(e.kind, e.value) for e in effects(text, "/etc/profile")] == expected


# Each was a pass before 2026-12-06 (the red-team of issue 20); real bash 5.2 sourcing the text leaves TMOUT
# unset, unexported or not readonly, so imagevet must not pass them: it reads them as not decidable.
UNDECIDABLE = [
    "if false; then\n  TMOUT=900; readonly TMOUT; export TMOUT\nfi\n",
    "f() {\n  TMOUT=900; readonly TMOUT; export TMOUT\n}\n",
    "cat >/dev/null <<EOF\nTMOUT=900\nreadonly TMOUT\nexport TMOUT\nEOF\n",
    ": '\nTMOUT=900\nreadonly TMOUT\nexport TMOUT\n'\n",
    "echo \\\nTMOUT=900\n",  # the continued line makes it an argument of echo
    "TMOUT='900\"\n",  # a quote open to the end: bash stops with a syntax error
    '[ -n "$BASH" ] && TMOUT=900\n',
    "case $- in\n  *i*) TMOUT=900;;\nesac\n",
    ": ${TMOUT:=900}\n",
]


@pytest.mark.parametrize("text", UNDECIDABLE)
def test_statements_that_depend_on_the_run_are_undecided(text: str) -> None:
    assert "undecided" in {e.kind for e in effects(text, "/etc/profile")}


def test_a_carriage_return_stays_in_the_word_as_in_bash() -> None:
    found = effects("TMOUT=900\r\nreadonly TMOUT\r\nexport TMOUT\r\n", "/etc/profile")
    assert found[0].value == "900\r" and [e.kind for e in found[1:]] == ["undecided", "undecided"]


def test_a_form_feed_inside_a_comment_is_still_the_comment() -> None:
    assert effects("# old \x0creadonly TMOUT=900\n", "/etc/profile") == []


def test_a_here_document_ends_and_what_follows_counts() -> None:
    found = effects('cat <<-"EOF"\n\tnothing\n\tEOF\nTMOUT=600\n', "/etc/profile")
    assert [(e.kind, e.value, e.line) for e in found] == [("assign", "600", 4)]


def test_profile_d_is_read_in_order(tmp_path: Path) -> None:
    (tmp_path / "etc/profile.d").mkdir(parents=True)
    (tmp_path / "etc/profile").write_text("TMOUT=600\n")
    (tmp_path / "etc/profile.d/b.sh").write_text("export TMOUT\n")
    (tmp_path / "etc/profile.d/a.sh").write_text("readonly TMOUT\n")
    (tmp_path / "etc/profile.d/c.csh").write_text("set TMOUT=1\n")  # not a .sh: not read by sh
    found = gather_timeout(RootfsTarget(str(tmp_path)))
    assert not isinstance(found, Unknown)
    assert [(e.kind, e.path) for e in found] == [
        ("assign", "/etc/profile"),
        ("readonly", "/etc/profile.d/a.sh"),
        ("export", "/etc/profile.d/b.sh"),
    ]


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
    assert (defaults["INACTIVE"].value, defaults["INACTIVE"].line) == ('"30"', 3)  # as useradd sees it


def test_the_su_stack_of_the_overlays() -> None:
    passing = gather_su_stack(RootfsTarget(str(FIXTURES / "cases/cis-pass")))
    assert not isinstance(passing, Unknown) and passing is not None
    wheel = [m for m in passing.lines if m.module == "pam_wheel.so"]
    assert [(m.control, m.arguments) for m in wheel] == [("required", ("use_uid", "group=sugroup"))]
    assert gather_su_stack(RootfsTarget(str(FIXTURES / "rootfs/hardened-debian"))) is None


def test_etc_shells_is_read_as_getusershell_reads_it() -> None:
    text = "# /etc/shells\n/bin/sh\n/bin/bash # the usual\n  /bin/zsh\n#/bin/csh\nx /bin/dash#y\nnoslash\n"
    assert parse_shells(text) == ("/bin/sh", "/bin/bash", "/bin/zsh", "/bin/dash")
