"""ssh-banner: the Banner keyword and the file it names. sshd sends nothing for `none`, for a file it
cannot open and for an empty one, so a Banner line alone used to pass with no banner shown (issue 20).
The roots are copies of the hardened-debian fixture, whose sshd sets no Banner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import Status
from imagevet.target import RootfsTarget
from tests.checks.support import AS_OF, statuses

P, F, E = Status.PASS, Status.FAIL, Status.ERROR
WARNING = "Authorized users only. All activity may be monitored and reported.\n"


def _banner(root: Path, config: str, text: str | bytes | None = WARNING) -> Status:
    (root / "etc/ssh/sshd_config.d/05-banner.conf").write_text(config)
    issue = root / "etc/issue.net"
    if isinstance(text, str):
        issue.write_text(text)
    elif isinstance(text, bytes):
        issue.write_bytes(text)
    return statuses(root, ["ssh-banner"])["ssh-banner"]


def test_no_banner_keyword_fails(debian: Path) -> None:
    assert statuses(debian, ["ssh-banner"])["ssh-banner"] is F


def test_a_banner_file_with_text_passes(debian: Path) -> None:
    assert _banner(debian, "Banner /etc/issue.net\n") is P


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, F),  # no such file: sshd shows nothing
        ("", F),
        (" \n\t\n", F),  # only blanks
        (b"Acc\xe8s r\xe9serv\xe9\n", P),  # Latin-1: sshd sends the bytes all the same
        ("x" * (64 * 1024 + 1), E),  # not a banner: refused unread, never judged
    ],
)
def test_the_file_must_say_something(debian: Path, text: str | bytes | None, expected: Status) -> None:
    assert _banner(debian, "Banner /etc/issue.net\n", text) is expected


def test_banner_none_fails(debian: Path) -> None:
    assert _banner(debian, "Banner none\n") is F


def test_a_relative_path_is_undecided(debian: Path) -> None:
    assert _banner(debian, "Banner etc/issue.net\n") is E


def test_a_directory_is_undecided(debian: Path) -> None:
    (debian / "etc/banner.d").mkdir()
    assert _banner(debian, "Banner /etc/banner.d\n") is E


def test_a_dangling_link_fails(debian: Path) -> None:
    os.symlink("/etc/no-such-banner", debian / "etc/banner")
    assert _banner(debian, "Banner /etc/banner\n") is F


def test_a_link_out_of_the_image_is_read_inside_it(debian: Path, tmp_path: Path) -> None:
    """/etc/banner -> ../../../outside/banner resolves inside the root (no such file there), never to the
    host file beside the root."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "banner").write_text(WARNING)
    os.symlink("../../../outside/banner", debian / "etc/banner")
    assert _banner(debian, "Banner /etc/banner\n") is F


def test_a_match_block_that_drops_the_banner_fails(debian: Path) -> None:
    config = "Banner /etc/issue.net\nMatch Address 10.0.0.0/8\n  Banner none\n"
    assert _banner(debian, config) is F
    good = "Banner /etc/issue.net\nMatch Address 10.0.0.0/8\n  Banner /etc/issue\n"
    (debian / "etc/issue").write_text(WARNING)
    assert _banner(debian, good) is P


def test_the_evidence_names_the_missing_file(debian: Path) -> None:
    (debian / "etc/ssh/sshd_config.d/05-banner.conf").write_text("Banner /etc/issue.net\n")
    report = run_audit(RootfsTarget(str(debian)), CheckOptions(AS_OF), ["ssh-banner"])
    (result,) = report.results
    assert any("no such file" in e.detail and e.path == "/etc/issue.net" for e in result.evidence)
