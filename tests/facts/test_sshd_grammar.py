"""``split_args``: the fast path for plain lines (no quote, backslash or ``#``) splits exactly as the
character loop that models OpenSSH's argv_split. Appending `` #`` to a line forces the loop without
changing the arguments (a ``#`` starting an argument ends the line), so each random line is its own oracle."""

from __future__ import annotations

import random

from imagevet.facts.sshd_grammar import split_args

ALPHABET = " \t\r\n\f\v\xa0ab=*,:/-\u3000"  # argv_split's separators, other white space, ordinary bytes


def test_plain_lines_split_as_the_character_loop() -> None:
    rng = random.Random(19)
    for _ in range(5000):
        line = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 24)))
        assert split_args(line) == split_args(line + " #"), repr(line)


def test_only_space_tab_cr_and_newline_separate() -> None:
    assert split_args("  a\fb\tc\xa0d  ") == ["a\fb", "c\xa0d"]
    assert split_args(" \t ") == []
