"""dpkg's own stanza reader (lib/dpkg/parse.c ``parse_stanza``), ported rule for rule.

The dpkg database is read the way dpkg reads it, because a difference is a place to hide a package: a line
that dpkg takes as a field but we skip, or a stanza we split where dpkg does not, would let an image list
other packages to imagevet than to dpkg. The text is the file's bytes decoded as Latin-1 (one character
per byte, so positions and character classes are dpkg's), and only ASCII white space counts as space, as
with dpkg's ``c_isspace``. Rules reproduced (checked against ``dpkg-query`` in the tests):

* stanzas are separated by empty lines; runs of ``\\n`` and ``^Z`` between stanzas are skipped;
* a field name runs to white space, ``:`` or ``^Z``; it must be followed (after blanks) by ``:``;
  an empty name, a name starting with ``-``, or a newline / end of file before the ``:`` is an error;
* a value continues on lines starting with white space; a line of only white space inside a value is a
  warning in the status file (dpkg's lax parser), so it is tolerated; the value is trimmed at both ends;
* the file must end with a newline after the last value (else "missing final newline"), except that what
  follows the last complete field's newline up to one character is ignored, as dpkg ignores it.

Errors carry the line number only, never the bytes of the refused file.
"""

from __future__ import annotations

import re
from typing import NamedTuple

SPACE = " \t\n\v\f\r"  # dpkg's c_isspace: ASCII only
MSDOS_EOF = "\x1a"
_NAME_END = re.compile(r"[ \t\n\v\f\r:\x1a]")
# An end of line (or ^Z) that does not continue: not followed by white space *and* one more character.
_VALUE_END = re.compile(r"[\n\x1a](?![ \t\v\f\r].)", re.DOTALL)
# The shape of nearly every field dpkg writes, which the rules above read the same way: a name (not
# starting with "-") right before the colon, blanks, a value starting with a non-blank, continuation lines
# (white space and then at least one more character before the line's end), no ^Z anywhere, and an end of
# line that does not continue. One match reads such a field; anything else goes through the rules one by
# one (``_field``), so the fast path can only be faster, never read differently.
_PLAIN_FIELD = re.compile(
    r"([^ \t\n\v\f\r:\x1a\-][^ \t\n\v\f\r:\x1a]*):[ \t\v\f\r]*"
    r"([^ \t\n\v\f\r\x1a][^\n\x1a]*(?:\n[ \t\v\f\r][^\n\x1a]*)*)\n(?![ \t\v\f\r])"
)


class Deb822Error(ValueError):
    """The text is not a stanza file dpkg would read; ``line`` is the 1-based line of the problem."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


class Field(NamedTuple):
    name: str  # as written (Latin-1 text of the bytes)
    value: str  # trimmed, continuation lines kept with their leading white space, as dpkg keeps them
    line: int  # 1-based line where the field starts


class Stanza(NamedTuple):
    fields: tuple[Field, ...]
    line: int  # 1-based line of the first field
    end_line: int  # the line count dpkg has reached after the stanza (its "near line N")


class _Reader:
    """A cursor with dpkg's getc/ungetc/at_eof semantics over the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0  # index of the next character to read (dpkg's dataptr)
        self.lno = 0  # newlines consumed so far (dpkg's ps->lno)

    def eof(self) -> bool:
        return self.i >= self.n

    def getc(self) -> str:
        c = self.text[self.i]
        self.i += 1
        return c


def parse_stanzas(text: str) -> list[Stanza]:
    """Every stanza of a dpkg database file, or Deb822Error where dpkg stops with an error."""
    reader = _Reader(text)
    stanzas: list[Stanza] = []
    while True:
        stanza = _stanza(reader)
        if stanza is None:
            return stanzas
        stanzas.append(stanza)
        if reader.eof():
            return stanzas


def _stanza(r: _Reader) -> Stanza | None:
    c = ""
    while not r.eof():  # skip adjacent new lines
        c = r.getc()
        if c != "\n" and c != MSDOS_EOF:
            break
        r.lno += 1
    if r.eof():  # nothing relevant parsed (this also drops a lone last character, as dpkg does)
        return None
    fields: list[Field] = []
    start_line = r.lno + 1
    while True:
        c = _field(r, c, fields)
        if r.eof() or c == "\n" or c == MSDOS_EOF:
            break
    if c == "\n":
        r.lno += 1
    return Stanza(tuple(fields), start_line, r.lno)


def _field(r: _Reader, c: str, fields: list[Field]) -> str:
    """Read one field whose first character ``c`` was just read; returns dpkg's ``c`` after the value."""
    text, n, i = r.text, r.n, r.i
    plain = _PLAIN_FIELD.match(text, i - 1)
    if plain is not None:
        after = plain.end()  # just after the value's final newline
        fields.append(Field(plain[1], plain[2].rstrip(SPACE), r.lno + 1))
        r.lno += plain[2].count("\n") + 1
        if after >= n:
            r.i = n
            return "\n"
        r.i = after + 1
        return text[after]
    line = r.lno + 1
    field_start = i - 1
    if c not in SPACE and c != ":" and c != MSDOS_EOF:
        match = _NAME_END.search(text, i)
        i = n if match is None else match.start() + 1
        c = text[i - 1]
    field_len = i - field_start - 1
    if field_len == 0:
        raise Deb822Error(line, "empty field name (a line starts with white space or a colon)")
    if text[field_start] == "-":
        raise Deb822Error(line, "a field name starts with a hyphen")
    while i < n and c != "\n" and c in SPACE:  # spaces before ':'
        c = text[i]
        i += 1
    if i >= n:
        raise Deb822Error(line, "end of file after a field name (truncated?)")
    if c == "\n":
        raise Deb822Error(line, "a line that is neither 'Field: value' nor a continuation")
    if c == MSDOS_EOF:
        raise Deb822Error(line, "MSDOS end-of-file character in a field name")
    if c != ":":
        raise Deb822Error(line, "a field name is not followed by a colon")
    while i < n:  # spaces after ':' but before the value and the end of the line
        c = text[i]
        i += 1
        if c == "\n" or c not in SPACE:
            break
    if i >= n:
        raise Deb822Error(line, "end of file before a field's value (missing final newline: truncated?)")
    if c == MSDOS_EOF:
        raise Deb822Error(line, "MSDOS end-of-file character in a field's value")
    value_start = i - 1
    # dpkg reads the value character by character until an end of line that is not followed by a
    # continuation (white space and then something more); one search finds that end of line.
    end = _VALUE_END.search(text, value_start)
    if end is None:
        last = text.count("\n", 0, n) + text.count(MSDOS_EOF, 0, n)
        raise Deb822Error(
            last + 1, "end of file in the middle of a field's value (missing final newline: truncated?)"
        )
    j = end.start()
    r.lno += text.count("\n", value_start, j + 1) + text.count(MSDOS_EOF, value_start, j + 1)
    if j + 1 >= n:
        i, c = n, text[j]
    else:
        i, c = j + 2, text[j + 1]
    r.i = i
    value = text[value_start : i - 1].rstrip(SPACE)
    fields.append(Field(text[field_start : field_start + field_len], value, line))
    return c
