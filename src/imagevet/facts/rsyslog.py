"""rsyslog's configuration as rsyslogd reads it, for the question CIS asks of it: does it take logs from
other hosts? A network input is a module of imtcp, imudp, imrelp, imptcp or imgssapi loaded, or an
input of one of those types, in either syntax rsyslog reads (rsyslog's documentation, "Configuration
Formats", https://www.rsyslog.com/doc/configuration/conf_formats.html, checked 2026-12-07):

- RainerScript: ``module(load="imtcp")``, ``input(type="imtcp" port="514")``, statements that may span
  lines; ``include(file="/etc/rsyslog.d/*.conf")`` reads more files where it stands;
- the legacy directives: ``$ModLoad imtcp`` (a name or a path to the module's ``.so``),
  ``$InputTCPServerRun 514`` and its UDP, RELP, plain-TCP and GSS-API siblings, and
  ``$IncludeConfig /etc/rsyslog.d/*.conf`` (a pattern, or a directory whose files are all read).

It also collects the modes log files are created with (``$FileCreateMode 0640``, or omfile's
``fileCreateMode`` given to ``module(load="builtin:omfile")`` or to an ``action(type="omfile")``), whose
default is 0644 (rsyslog's documentation, https://www.rsyslog.com/doc/reference/parameters/
omfile-filecreatemode.html and .../configuration/action/rsconf1_filecreatemode.html, checked 2026-12-07).

Comments (``#`` to the end of the line outside a string, ``/* ... */``) are skipped, so Debian's commented
``#module(load="imudp")`` counts for nothing. What cannot be read as rsyslog reads it is Unknown, never "no
listener": a file that cannot be read, a string or statement that never ends, ``include(text=...)`` (text
built at start), or more than MAX_FILES files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

MAIN = "/etc/rsyslog.conf"
NETWORK_MODULES = ("imtcp", "imudp", "imrelp", "imptcp", "imgssapi")
LEGACY_LISTENERS = (
    "$inputtcpserverrun",
    "$udpserverrun",
    "$inputudpserverrun",
    "$inputrelpserverrun",
    "$inputptcpserverrun",
    "$inputgssserverrun",
)
MAX_FILES = 256
_PARAMETER = re.compile(r'([A-Za-z][\w.]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s)]+)')


@dataclass(frozen=True)
class Listener:
    """A statement that makes rsyslogd take logs from the network, and where it is."""

    path: str
    line: int
    text: str


@dataclass(frozen=True)
class FileMode:
    """A mode log files are created with: ``$FileCreateMode``, or omfile's ``fileCreateMode`` given to the
    module or to one action."""

    path: str
    line: int
    text: str
    mode: str  # as written, an octal number rsyslog wants in four digits


@dataclass(frozen=True)
class Rsyslog:
    files: tuple[str, ...]  # every file read, in the order rsyslogd reads them
    listeners: tuple[Listener, ...]
    file_modes: tuple[FileMode, ...] = ()


@dataclass(frozen=True)
class _Statement:
    line: int
    kind: str  # "legacy" (a $ directive line) or the RainerScript object's name, lower-case
    text: str  # the directive line, or the object's parameters between its parentheses


def gather_rsyslog(target: Target) -> Rsyslog | Unknown | None:
    """None where the image has no /etc/rsyslog.conf."""
    if not target.exists(MAIN) and target.readlink(MAIN) is None:
        return None
    files: list[str] = []
    listeners: list[Listener] = []
    modes: list[FileMode] = []
    pending = [MAIN]
    while pending:
        path = pending.pop(0)
        if path in files:
            continue  # rsyslogd would read it again; its statements are already judged
        if len(files) >= MAX_FILES:
            return Unknown(f"{MAIN}: more than {MAX_FILES} configuration files are included")
        files.append(path)
        text = target.read_text(path)
        if isinstance(text, Unknown):
            return Unknown(f"{path}: {text.reason}")
        statements = _statements(text)
        if isinstance(statements, str):
            return Unknown(f"{path}: {statements}")
        included: list[str] = []
        for statement in statements:
            found = _judged(target, path, statement, included)
            if isinstance(found, Unknown):
                return found
            if isinstance(found, Listener):
                listeners.append(found)
            elif found is not None:
                modes.append(found)
        pending[:0] = included  # the order rsyslogd reads them in does not change what listens
    return Rsyslog(tuple(files), tuple(listeners), tuple(modes))


def _judged(
    target: Target, path: str, statement: _Statement, included: list[str]
) -> Listener | FileMode | Unknown | None:
    """The listener or file mode a statement is (None if neither); its includes go into ``included``."""
    words = statement.text.split()
    if statement.kind == "legacy":
        directive = words[0].lower()
        if directive == "$includeconfig" and len(words) > 1:
            included += _included(target, words[1])
        elif directive == "$modload" and len(words) > 1:
            module = words[1].rsplit("/", 1)[-1].removesuffix(".so").lower()
            if module in NETWORK_MODULES:
                return Listener(path, statement.line, statement.text)
        elif directive in LEGACY_LISTENERS:
            return Listener(path, statement.line, statement.text)
        elif directive == "$filecreatemode":
            return FileMode(path, statement.line, statement.text, words[1] if len(words) > 1 else "")
        return None
    parameters = [(name.lower(), value.strip('"')) for name, value in _PARAMETER.findall(statement.text)]
    shown = f"{statement.kind}({' '.join(statement.text.split())})"
    wanted = {"module": "load", "input": "type"}.get(statement.kind)
    if statement.kind == "include":
        for name, value in parameters:
            if name == "text":
                return Unknown(
                    f"{path} line {statement.line}: include(text=...) is built when rsyslogd starts"
                )
            if name == "file":
                included += _included(target, value)
    elif any(name == wanted and value.lower() in NETWORK_MODULES for name, value in parameters):
        return Listener(path, statement.line, shown)
    omfile = ("load", "builtin:omfile") if statement.kind == "module" else ("type", "omfile")
    if statement.kind in ("module", "action") and any((n, v.lower()) == omfile for n, v in parameters):
        mode = next((value for name, value in parameters if name == "filecreatemode"), None)
        if mode is not None:
            return FileMode(path, statement.line, shown, mode)
    return None


def _included(target: Target, pattern: str) -> list[str]:
    """The regular files an include names: a glob pattern, or a directory (every file in it), from /."""
    pattern = pattern if pattern.startswith("/") else "/" + pattern
    pattern = pattern + "*" if pattern.endswith("/") else pattern
    return [path for path in target.glob(pattern) if target.is_file(path)]


def _statements(text: str) -> list[_Statement] | str:
    """The legacy directive lines and the module, input and include objects of one file, comments
    skipped; a string saying what never ends, where something does not."""
    statements: list[_Statement] = []
    line, i, n = 1, 0, len(text)
    at_line_start = True
    while i < n:
        char = text[i]
        if char == "\n":
            line, at_line_start, i = line + 1, True, i + 1
            continue
        if char in " \t\r":
            i += 1
            continue
        if char == "#":
            i = _line_end(text, i)
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return f"a comment that starts on line {line} never ends"
            line += text.count("\n", i, end)
            i = end + 2
            continue
        if char == "$" and at_line_start:
            end = _line_end(text, i)
            statements.append(_Statement(line, "legacy", text[i:end].strip()))
            i = end
            continue
        at_line_start = False
        word = re.match(r"[A-Za-z]+\s*\(", text[i : i + 64])
        if word is None:
            i = _skip_token(text, i)
            if i < 0:
                return f"a string that starts on line {line} never ends"
            continue
        start, body_start = line, i + word.end()
        end = _closing(text, body_start)
        if end < 0:
            return f"the {word.group(0)[:-1].strip()}(...) that starts on line {start} never ends"
        kind = word.group(0)[:-1].strip().lower()
        if kind in ("module", "input", "include", "action"):
            statements.append(_Statement(start, kind, _without_comments(text[body_start:end])))
        line += text.count("\n", i, end)
        i = end + 1
    return statements


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _skip_token(text: str, i: int) -> int:
    """Past one word, or one quoted string (-1 if it never ends), outside any object."""
    if text[i] in "\"'`":
        end = _string_end(text, i)
        return end
    j = i + 1
    while j < len(text) and text[j] not in " \t\r\n#\"'`(":
        j += 1
    return j


def _string_end(text: str, i: int) -> int:
    """Past the string that starts at ``i`` (its quote character, backslash escapes), or -1."""
    quote, j = text[i], i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
        elif text[j] == quote:
            return j + 1
        else:
            j += 1
    return -1


def _closing(text: str, i: int) -> int:
    """The index of the parenthesis that closes an object whose parameters start at ``i``, or -1."""
    depth = 0
    while i < len(text):
        char = text[i]
        if char in "\"'`":
            i = _string_end(text, i)
            if i < 0:
                return -1
            continue
        if char == "#":
            i = _line_end(text, i)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _without_comments(body: str) -> str:
    """An object's parameters with its ``#`` comments blanked out (a commented ``load="imtcp"`` is none)."""
    kept, i = [], 0
    while i < len(body):
        if body[i] in "\"'`":
            end = _string_end(body, i)  # ends: _closing found the object's end past it
            kept.append(body[i:end])
            i = end
        elif body[i] == "#":
            i = _line_end(body, i)
        else:
            kept.append(body[i])
            i += 1
    return "".join(kept)
