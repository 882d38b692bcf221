"""Layout without cutting words: paragraphs wrap at spaces, commands between shell words (checked
against shlex, the shell-syntax oracle of the standard library), grids only when they fit."""

from __future__ import annotations

import shlex

import pytest

from imagevet.report.layout import Page, shell_words, wrap, wrap_command

LONG_PATH = "/usr/lib/python3.9/site-packages/cloudinit/" + "very-long-directory-name/" * 4 + "version.py"


def test_wrap_breaks_at_spaces_and_keeps_long_tokens_whole() -> None:
    text = f"cloud-init 21.1 (from {LONG_PATH}); required >= 22.1 and a few more words to wrap here"
    lines = wrap(text, 40, indent=4)
    assert LONG_PATH in [line.strip() for line in lines] or any(LONG_PATH in line for line in lines)
    assert " ".join(line.strip() for line in lines) == text
    for line in lines:
        assert line.startswith("    ")
        assert len(line) <= 40 or len(line.split()) == 1


def test_wrap_keeps_the_texts_own_line_breaks_and_a_prefix() -> None:
    assert wrap("one two\n\nthree", 80, prefix="# ") == ["# one two", "#", "# three"]


@pytest.mark.parametrize(
    "command",
    [
        "sed -i -E 's/^apply_updates\\s*=.*/apply_updates = yes/; s/^upgrade_type\\s*=.*/upgrade_type = "
        "security/' /etc/dnf/automatic.conf",
        'grubby --update-kernel ALL --remove-args "selinux enforcing" && systemctl reload sshd && echo a\\ b',
        "awk -F: '($2 == \"\") {print $1}' /etc/shadow | xargs -r -n1 passwd -l && echo done and done again",
    ],
)
def test_a_wrapped_command_is_the_same_command_to_a_shell(command: str) -> None:
    assert [shlex.split(word)[0] for word in shell_words(command)] == shlex.split(command)
    for width in (30, 50, 80):
        lines = wrap_command(command, width, indent=2)
        pasted = "\n".join(lines).replace(" \\\n", " ")
        assert shlex.split(pasted) == shlex.split(command)
        for line in lines:
            assert len(line) <= width or len(shlex.split(line.rstrip("\\"))) == 1


def test_a_short_or_multi_line_command_is_left_as_it_is() -> None:
    assert wrap_command("sshd -t", 80, 2) == ["  sshd -t"]
    assert wrap_command("a\nb", 1, 0) == ["a", "b"]


def test_grid_only_when_the_columns_fit() -> None:
    rows = [[("severity", ""), ("id", "")], [("high", "bold red"), ("CVE-2026-1111", "")]]
    wide = Page(40)
    assert wide.grid(rows, indent=2)
    assert wide.render(False).splitlines() == ["  severity  id", "  high      CVE-2026-1111"]
    assert not Page(20).grid(rows, indent=2)


def test_colour_only_when_asked() -> None:
    page = Page(80)
    page.text("FAIL (1)", "bold red")
    assert "\x1b[" not in page.render(False)
    assert "\x1b[" in page.render(True)
