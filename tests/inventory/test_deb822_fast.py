"""The one-match reading of plain fields (deb822.py ``_PLAIN_FIELD``) reads every text exactly as the
rule-by-rule reader does: the same stanzas, fields, values and line numbers, or the same error. Texts are
generated from the characters the rules turn on (blanks of each kind, colons, hyphens, newlines, ^Z), so
that most of them stray from the plain shape somewhere; the real status file of the debootstrap root is
read both ways too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagevet.inventory import deb822

NEVER = re.compile(r"(?!)")
PIECES = st.sampled_from(
    ["Package", "a", "-x", ":", " ", "\t", "\v", "\r", "\n", "\x1a", "Description: d\n", " more\n", " .\n",
     "Version: 1.0\n", "\n\n", "é", "X:", ": ", "Status: install ok installed\n"]
)  # fmt: skip


def read(text: str) -> list[deb822.Stanza] | tuple[int, str]:
    try:
        return deb822.parse_stanzas(text)
    except deb822.Deb822Error as exc:
        return (exc.line, exc.message)


def both(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = read(text)
    with monkeypatch.context() as patch:
        patch.setattr(deb822, "_PLAIN_FIELD", NEVER)
        slow = read(text)
    assert fast == slow, repr(text)


@settings(max_examples=3000, deadline=None)
@given(st.lists(PIECES, max_size=40))
def test_the_fast_path_reads_every_text_as_the_rules_do(pieces: list[str]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        both("".join(pieces), monkeypatch)


def test_a_real_status_file_reads_the_same(debian_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (debian_root / "var/lib/dpkg/status").read_bytes().decode("latin-1")
    both(text, monkeypatch)
    assert len(deb822.parse_stanzas(text)) > 100
