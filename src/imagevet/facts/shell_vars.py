"""What a system-wide shell profile does to one variable (TMOUT), read the way the shell runs it, and only
as far as that can be known without running it. Pure.

The reader lexes POSIX shell as bash does where it matters for a verdict: only a newline ends a line
(a carriage return stays in the word, so ``readonly TMOUT\\r`` names no valid variable), a backslash-newline
joins lines, quotes and here-documents hold text that is not run, ``#`` starts a comment at a word's
start. It then replays, in order, the simple commands at the top level that touch the variable:
assignments, ``readonly``, ``export`` (``-n`` un-exports), ``declare``/``typeset`` with ``-r``/``-x``/
``+x``, and ``unset``. An assignment to a readonly variable fails, as in bash.

Anything else that touches the variable cannot be decided without running the file, and is reported as
such (never guessed): a statement inside ``if``/``case``/a loop/a function/braces/a subshell, after
``&&`` or ``||``, in a pipeline or in the background, in a here-document, in text a quote leaves open to the
end of the file, or a command the reader does not model (``eval``, ``read``, ``: ${TMOUT:=…}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPENERS = frozenset({"if", "case", "for", "while", "until", "{", "(", "function", "select"})
CLOSERS = frozenset({"fi", "esac", "done", "}", ")"})
LEADERS = frozenset({"then", "do", "else", "elif", "!", "time"})
_OPERATORS = ("&&", "||", ";;", "<<-", "<<", ";", "&", "|", "(", ")", ">", "<")  # redirections: no separators
_FUNCTION = re.compile(r"^[A-Za-z_][\w-]*\(\)$")


@dataclass(frozen=True)
class Word:
    text: str  # quotes removed
    raw: str  # as written


@dataclass(frozen=True)
class Command:
    words: tuple[Word, ...]
    line: int
    depth: int  # compound commands it is inside
    chained: bool  # part of an && / || list, a pipeline, or run in the background


@dataclass(frozen=True)
class Effect:
    """One thing a statement did to the variable, in order."""

    kind: str  # assign, readonly, export, unexport, unset, undecided
    value: str | None
    path: str
    line: int
    note: str = ""


def _lex(text: str) -> tuple[list[tuple[str, int, str]], list[tuple[int, str]]]:
    """(kind, line, text) tokens — kind "word", "op" or "newline" — and the here-document bodies and open
    quotes found, as (line, text)."""
    tokens: list[tuple[str, int, str]] = []
    hidden: list[tuple[int, str]] = []
    i, line, n = 0, 1, len(text)
    heredocs: list[tuple[str, bool]] = []
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] == "\n":
            i, line = i + 2, line + 1
            continue
        if char == "\n":
            tokens.append(("newline", line, "\n"))
            i, line = i + 1, line + 1
            for delimiter, strip in heredocs:  # bodies start after the line that opened them
                start = line
                body = []
                while i < n:
                    end = text.find("\n", i)
                    end = n if end < 0 else end
                    row = text[i:end]
                    i, line = end + 1, line + 1
                    if (row.lstrip("\t") if strip else row) == delimiter:
                        break
                    body.append(row)
                hidden.append((start, "\n".join(body)))
            heredocs = []
            continue
        if char in " \t":
            i += 1
            continue
        if char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator:
            if operator.startswith("<<"):
                j = i + len(operator)
                while j < n and text[j] in " \t":
                    j += 1
                closing, raw, j, line2 = _word(text, j, line)
                if closing is None:
                    hidden.append((line, raw))
                    break
                heredocs.append((closing, operator == "<<-"))
                i, line = j, line2
            else:
                tokens.append(("op", line, operator))
                i += len(operator)
            continue
        start_line = line
        word, raw, i, line = _word(text, i, line)
        if word is None:  # a quote open to the end of the file
            hidden.append((start_line, raw))
            break
        tokens.append(("word", start_line, word + "\0" + raw))
    return tokens, hidden


def _escaped(text: str, at: int) -> bool:
    """Whether the character at ``at`` follows an odd number of backslashes (``\\"`` ends a string)."""
    count = 0
    while at - count - 1 >= 0 and text[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _word(text: str, i: int, line: int) -> tuple[str | None, str, int, int]:
    """One word from ``i``: (unquoted text, raw text, next index, line); a quote left open to the end of the
    file gives (None, the rest of the file)."""
    out, start, n = [], i, len(text)
    while i < n and text[i] not in " \t\n;&|()<>":
        char = text[i]
        if char in "'\"":
            end = text.find(char, i + 1)
            while char == '"' and end > 0 and _escaped(text, end):
                end = text.find(char, end + 1)
            if end < 0:
                return None, text[start:], n, line + text.count("\n", start)
            out.append(text[i + 1 : end])
            line += text.count("\n", i, end)
            i = end + 1
        elif char == "\\" and i + 1 < n:
            if text[i + 1] == "\n":
                line += 1
            else:
                out.append(text[i + 1])
            i += 2
        else:
            out.append(char)
            i += 1
    if i == start:  # a character no rule above takes: a word of its own, so that the lexer always moves on
        return text[i], text[i], i + 1, line
    return "".join(out), text[start:i], i, line


def commands(text: str) -> tuple[list[Command], list[tuple[int, str]], bool]:
    """The simple commands of a file with their nesting, the hidden texts, and whether nesting balanced."""
    tokens, hidden = _lex(text)
    found: list[Command] = []
    depth, balanced = 0, True
    current: list[Word] = []
    chained, start = False, 1

    def flush(next_chained: bool) -> None:
        nonlocal current, depth, chained, balanced
        words = list(current)
        while words and words[0].text in LEADERS:
            words = words[1:]
        if words and words[0].text in CLOSERS:
            depth -= 1
            words = words[1:]
        if words and (words[0].text in OPENERS or _FUNCTION.match(words[0].text)):
            depth += 1
        if depth < 0:
            balanced, depth = False, 0
        if words:
            found.append(Command(tuple(words), start, depth, chained or next_chained))
        current, chained = [], next_chained

    for kind, line, value in tokens:
        if kind == "word":
            if not current:
                start = line
            text, raw = value.split("\0", 1)
            current.append(Word(text, raw))
        elif kind == "newline" or value in (";", ";;"):
            flush(False)
        elif value in ("&&", "||", "|", "&"):
            flush(True)
            chained = value != "&"  # the command after && || | is conditional; & only backgrounds before
        elif value == "(":
            flush(False)
            depth += 1
        elif value == ")":
            flush(False)
            depth -= 1
            if depth < 0:
                balanced, depth = False, 0
    flush(False)
    return found, hidden, balanced and depth == 0


def _names(words: tuple[Word, ...], name: str) -> list[tuple[str, str | None]]:
    """(name, assigned value or None) for each argument naming ``name``."""
    out = []
    for word in words:
        key, equals, value = word.text.partition("=")
        if key == name:
            out.append((key, value if equals else None))
    return out


def _touches(command: Command, name: str) -> bool:
    """Whether a word names the variable other than to read it ($TMOUT, ${TMOUT}, ${TMOUT:-x}, ${#TMOUT})."""
    reads = re.compile(rf"\$\{{#?{name}(:?[-+][^}}]*)?\}}|\${name}(?!\w)")
    return any(re.search(rf"(?<!\w){name}(?!\w)", reads.sub("", w.raw)) for w in command.words)


def effects(text: str, path: str, name: str = "TMOUT") -> list[Effect]:
    """What the file does to ``name``, in order; an "undecided" effect names what could not be read."""
    found, hidden, balanced = commands(text)
    out: list[Effect] = []
    for line, body in hidden:
        if name in body:
            out.append(
                Effect("undecided", None, path, line, f"{name} in a here-document or an unclosed quote")
            )
    for command in found:
        if not _touches(command, name):
            continue
        if command.depth > 0 or command.chained or not balanced:
            where = (
                "inside a compound command" if command.depth > 0 or not balanced else "in an && / || / | list"
            )
            out.append(
                Effect("undecided", None, path, command.line, f"{name} set {where}: it depends on the run")
            )
            continue
        out += _simple(command, path, name)
    return out


def _simple(command: Command, path: str, name: str) -> list[Effect]:
    words, line = command.words, command.line
    first = words[0].text
    if all("=" in w.text and re.match(r"^[A-Za-z_]\w*=", w.text) for w in words):
        return [Effect("assign", value, path, line) for _, value in _names(words, name)]
    if first in ("readonly", "export", "declare", "typeset", "unset"):
        flags = [w.text for w in words[1:] if w.text[:1] in "-+"]
        marks: list[Effect] = []
        for _key, value in _names(words[1:], name):
            if value is not None and first != "unset":
                marks.append(Effect("assign", value, path, line))
            if first == "readonly" or (
                first in ("declare", "typeset") and any("r" in f for f in flags if f[0] == "-")
            ):
                marks.append(Effect("readonly", None, path, line))
            if (first == "export" and "-n" not in flags) or (
                first in ("declare", "typeset") and any("x" in f for f in flags if f[0] == "-")
            ):
                marks.append(Effect("export", None, path, line))
            if (first == "export" and "-n" in flags) or any(f.startswith("+") and "x" in f for f in flags):
                marks.append(Effect("unexport", None, path, line))
            if first == "unset" and "-f" not in flags:
                marks.append(Effect("unset", None, path, line))
        if first == "unset" and "-f" in flags:
            return []  # a function of that name, not the variable
        if any(
            f.startswith("-") and set(f[1:]) - set("rxgp") for f in flags if first in ("declare", "typeset")
        ):
            return [Effect("undecided", None, path, line, f"{first} {' '.join(flags)}: not modelled")]
        if marks or not any(name in w.raw for w in words):
            return marks
    return [Effect("undecided", None, path, line, f"'{first}' touches {name}: not modelled")]


@dataclass(frozen=True)
class UmaskCall:
    """A ``umask MODE`` a profile runs: the mode as written (None where it is not an octal number the
    reader can judge without running the file: ``umask "$X"``, a symbolic mode), and whether it runs only
    under a condition (inside a compound command or an && / || list)."""

    mode: int | None
    written: str
    path: str
    line: int
    conditional: bool


_OCTAL = re.compile(r"[0-7]{1,4}")
# Words that may stand before a command without changing what it is.
_PREFIXES = LEADERS | OPENERS | frozenset({"elif", "}"})
# Commands that run their arguments: a umask among them is run, in a form not read here.
_RUNNERS = frozenset({"builtin", "command", "eval", "exec", "xargs", "sudo", "env", "nohup", "nice", "time"})
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=")
_UMASK_WORD = re.compile(r"(^|[\s;&|(])umask(\s|$)")


def umask_calls(text: str, path: str) -> list[UmaskCall]:
    """Every ``umask`` with a mode in the file, conditional or not: a weaker mode in any branch is one some
    login gets (CIS's audit greps every umask line). ``umask`` alone, ``-S`` and ``-p`` only print. Only
    the plain form ``umask MODE`` is read; any other way of running umask with an argument (a quoted or
    escaped name, ``builtin``/``command``/``eval``, an assignment or a redirection before it, options
    with a mode) is reported with no mode, so that the check calls it undecided, never passed."""
    found, _hidden, balanced = commands(text)
    calls = []
    for command in found:
        words = list(command.words)
        while words and words[0].text in _PREFIXES:
            words = words[1:]
        names = [i for i, w in enumerate(words) if w.text == "umask"]
        conditional = command.depth > 0 or command.chained or not balanced
        if not names:
            if words and words[0].text in _RUNNERS and any(_UMASK_WORD.search(w.text) for w in words[1:]):
                # `eval "umask 022"`: the runner's quoted argument runs a umask not read here
                calls.append(UmaskCall(None, " ".join(w.raw for w in words), path, command.line, conditional))
            continue
        first = names[0]
        arguments = words[first + 1 :]
        if not arguments or all(w.text in ("-S", "-p") for w in arguments):
            continue  # it prints the mask
        plain = first == 0 and words[0].raw == "umask" and len(arguments) == 1
        runs = words[0].text in _RUNNERS or _ASSIGNMENT.match(words[0].text) or words[0].text.isdigit()
        if first > 0 and not runs:  # `echo umask 022` says it; `2>/dev/null umask 022` runs it
            continue
        mode = arguments[0]
        value = int(mode.text, 8) if plain and _OCTAL.fullmatch(mode.raw) else None
        written = " ".join(w.raw for w in words[first:])
        calls.append(UmaskCall(value, written, path, command.line, conditional))
    return calls
