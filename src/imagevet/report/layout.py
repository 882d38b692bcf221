"""Text laid out for a terminal or a pipe of a given width, without ever cutting a word.

Rich's tables fold a cell that does not fit, which cuts a path, a package version or a check id into
pieces a reader cannot search for or paste. Reports are laid out here instead: paragraphs wrap at spaces
only, a token longer than the width stays whole on a line of its own, and a table whose columns do not
fit side by side is given up for a stacked layout by its report (``grid`` returns False). Rich is used
only to print the lines, with colour on a terminal.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

Cell = tuple[str, str]  # (text, Rich style)


def wrap(text: str, width: int, indent: int = 0, prefix: str = "") -> list[str]:
    """``text`` in lines of at most ``width`` characters, each ``indent`` spaces and ``prefix`` in, broken
    at spaces only; its own line breaks are kept; a longer token is never broken (it overflows on its own
    line)."""
    import textwrap  # here: the CLI imports this module at every start, a JSON report never wraps

    lead = " " * indent + prefix
    room = max(width - len(lead), 1)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        parts = textwrap.wrap(paragraph, room, break_long_words=False, break_on_hyphens=False)
        lines += [(lead + part).rstrip() for part in parts or [""]]
    return lines


def shell_words(command: str) -> list[str]:
    """``command`` split at the spaces a shell splits at (outside quotes), each word as written."""
    words: list[str] = []
    word, quote, escaped = "", "", False
    for char in command:
        if escaped:
            word, escaped = word + char, False
        elif char == "\\" and quote != "'":
            word, escaped = word + char, True
        elif quote:
            word += char
            quote = "" if char == quote else quote
        elif char in "'\"":
            word, quote = word + char, char
        elif char == " ":
            if word:
                words.append(word)
            word = ""
        else:
            word += char
    return [*words, word] if word else words


def wrap_command(command: str, width: int, indent: int = 0) -> list[str]:
    """A one-line shell command in lines of at most ``width`` characters that paste back as the same
    command: broken between shell words with `` \\`` continuations; a longer word stays whole."""
    if "\n" in command or len(command) + indent <= width:
        return [" " * indent + line for line in command.split("\n")]
    lines: list[str] = []
    current = ""
    for word in shell_words(command):
        lead = indent if not lines else indent + 2
        if current and lead + len(current) + 1 + len(word) + 2 > width:
            lines.append(" " * lead + current + " \\")
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(" " * (indent if not lines else indent + 2) + current)
    return lines


class Page:
    """Styled lines laid out for ``width`` columns, rendered with or without colour."""

    def __init__(self, width: int) -> None:
        self.width = width
        self._lines: list[list[Cell]] = []

    def text(self, text: str, style: str = "", indent: int = 0, prefix: str = "") -> None:
        """A paragraph, wrapped at spaces to the page's width; ``prefix`` starts every line."""
        for line in wrap(text, self.width, indent, prefix):
            self._lines.append([(line, style)])

    def line(self, *cells: Cell) -> None:
        """One line as it is (the caller keeps it within the width, or it is one token)."""
        self._lines.append(list(cells))

    def verbatim(self, text: str, style: str = "", indent: int = 0) -> None:
        """Lines that must not be wrapped (file content to paste)."""
        for line in text.split("\n"):
            self._lines.append([(" " * indent + line, style)])

    def command(self, command: str, style: str = "", indent: int = 0) -> None:
        """A shell command to paste, wrapped only where a shell would read the same command."""
        for line in wrap_command(command, self.width, indent):
            self._lines.append([(line, style)])

    def grid(self, rows: list[list[Cell]], indent: int = 0, gap: int = 2) -> bool:
        """``rows`` as aligned columns when they fit the width side by side, else nothing (False)."""
        if not rows:
            return True
        widths = [max(len(row[i][0]) for row in rows) for i in range(len(rows[0]))]
        if indent + sum(widths) + gap * (len(widths) - 1) > self.width:
            return False
        for row in rows:
            cells: list[Cell] = [(" " * indent, "")]
            for i, (text, style) in enumerate(row):
                last = i == len(row) - 1
                cells.append((text if last else text.ljust(widths[i] + gap), style))
            self._lines.append(cells)
        return True

    def render(self, color: bool) -> str:
        from rich.console import Console
        from rich.text import Text

        buffer = io.StringIO()
        console = Console(
            file=buffer,
            force_terminal=color,
            no_color=not color,
            width=self.width,
            highlight=False,
            soft_wrap=True,  # the lines are laid out already: Rich must neither wrap nor crop them
        )
        for cells in self._lines:
            line: Text = Text()
            for text, style in cells:
                line.append(text, style=style or None)
            line.rstrip()
            console.print(line)
        return buffer.getvalue()
