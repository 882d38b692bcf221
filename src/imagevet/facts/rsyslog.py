"""rsyslog's configuration as rsyslogd reads it, for the question CIS asks of it: does it take logs from
other hosts? rsyslog's own lexer accepts far more than this reader follows, so the reader accepts a
plain subset of both syntaxes (rsyslog's documentation, "Configuration Formats",
https://www.rsyslog.com/doc/configuration/conf_formats.html, checked 2026-12-07) and says Unknown for
anything else, never "no listener" (the red-team of session 29 hid inputs behind each of the shapes
refused below):

- comments: ``#`` to the end of the line, ``/* ... */``;
- legacy lines: a ``$`` directive (``$ModLoad``, ``$InputTCPServerRun``..., ``$IncludeConfig``, matched
  by prefix as rsyslog matches them), a selector line (``*.*;auth.none  -/var/log/syslog``: the action is
  taken literally to the end of the line), a property filter (``:msg, contains, ...``) or an ``&`` line
  (one more action of the line before);
- RainerScript objects (``module(load="imtcp")``, ``input(type="imudp" port="514")``, ``include(...)``,
  ``global``, ``template``, ``action``...), across lines, with ``name="value"`` (escapes decoded), bare
  word or ``[...]`` parameters, and comments inside;
- refused: script statements (``if``, ``ruleset``, ``set``, ``call``, ``{``...), a backtick value of a
  parameter that decides a module, input or include, anything else on a line after an object, a line of
  no known shape, a string or comment that never ends, ``include(text=...)``, more than MAX_FILES files.

A network input is a module loaded (``module(load=...)``, ``$ModLoad``, a name or a path to its ``.so``)
or an input started (``input(type=...)``, ``$InputTCPServerRun`` and its siblings) of NETWORK_MODULES;
an input module in neither list is Unknown (whether it listens is not known here). Includes are
followed: a pattern, a directory (all of its files that are not hidden, and those of its directories).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

MAIN = "/etc/rsyslog.conf"
# Input modules that take messages from the network (rsyslog's module list), and those that read only
# the host's own sources.
NETWORK_MODULES = (
    "imtcp",
    "imudp",
    "imrelp",
    "imptcp",
    "imgssapi",
    "imczmq",
    "imzmq",
    "imhttp",
    "imdtls",
    "imdiag",
)
LOCAL_MODULES = ("imuxsock", "imjournal", "imklog", "imkmsg", "imfile", "immark", "impstats")
LEGACY_LISTENERS = (
    "$inputtcpserverrun",
    "$udpserverrun",
    "$inputudpserverrun",
    "$inputrelpserverrun",
    "$inputptcpserverrun",
    "$inputgssserverrun",
)
OBJECTS = ("module", "input", "include", "global", "template", "action", "main_queue", "parser",
           "timezone", "lookup_table", "dyn_stats", "percentile_stats", "ratelimit", "property", "constant",
           "list")  # fmt: skip
STATEMENTS = (
    "if",
    "ruleset",
    "set",
    "unset",
    "reset",
    "call",
    "call_indirect",
    "stop",
    "foreach",
    "continue",
)
MAX_FILES = 256
MAX_DEPTH = 8  # directories below an included one
_SELECTOR = re.compile(
    r"[a-z*][a-z0-9*]*(,[a-z0-9*]+)*\.[!=<>]*[a-z*]+(;[a-z*][a-z0-9*]*(,[a-z0-9*]+)*\.[!=<>]*[a-z*]+)*$", re.I
)
_WORD = re.compile(r"[A-Za-z_][\w.:-]*")
_ESCAPE = re.compile(r"\\([0-7]{3}|.)", re.S)


@dataclass(frozen=True)
class Listener:
    """A statement that makes rsyslogd take logs from the network, and where it is."""

    path: str
    line: int
    text: str


@dataclass(frozen=True)
class Rsyslog:
    files: tuple[str, ...]  # every file read, in the order they were reached
    listeners: tuple[Listener, ...]


class _Refused(Exception):
    """Something this reader does not follow; the message names the line."""


def gather_rsyslog(target: Target) -> Rsyslog | Unknown | None:
    """None where the image has no /etc/rsyslog.conf."""
    if not target.exists(MAIN) and target.readlink(MAIN) is None:
        return None
    files: list[str] = []
    listeners: list[Listener] = []
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
        reader = _Reader(text)
        try:
            reader.read()
        except _Refused as refused:
            return Unknown(f"{path}: {refused}; rsyslog's configuration is not read further")
        included: list[str] = []
        for _, pattern in reader.includes:
            included += _included(target, pattern)
        for line, shown, module in reader.modules:
            if module in NETWORK_MODULES:
                listeners.append(Listener(path, line, shown))
            elif module.startswith("im") and module not in LOCAL_MODULES:
                return Unknown(
                    f"{path} line {line}: {shown}: whether input module {module} listens is not known"
                )
        listeners += [Listener(path, line, shown) for line, shown in reader.legacy_listeners]
        pending[:0] = included  # the order rsyslogd reads them in does not change what listens
    return Rsyslog(tuple(files), tuple(listeners))


def _included(target: Target, pattern: str) -> list[str]:
    """The files an include names, from /: a glob pattern's matches; a directory's files that are not
    hidden, and those of its directories (as rsyslogd reads them)."""
    pattern = pattern if pattern.startswith("/") else "/" + pattern
    found: list[str] = []
    for path in target.glob(pattern.rstrip("/") or "/"):
        found += _files_below(target, path, 0)
    return found


def _files_below(target: Target, path: str, depth: int) -> list[str]:
    if target.is_file(path):
        return [path]
    if not target.is_dir(path) or depth > MAX_DEPTH:
        return []
    names = target.list_dir(path)
    if isinstance(names, Unknown):
        return [path]  # read as a file it fails, and names the reason
    return [
        f
        for name in names
        if not name.startswith(".")
        for f in _files_below(target, f"{path}/{name}", depth + 1)
    ]


class _Reader:
    """One file, in the subset the module docstring names."""

    def __init__(self, text: str) -> None:
        self.text, self.i, self.line = text, 0, 1
        self.includes: list[tuple[int, str]] = []
        self.modules: list[tuple[int, str, str]] = []  # line, statement as shown, module name
        self.legacy_listeners: list[tuple[int, str]] = []

    def read(self) -> None:
        at_start = True  # at the first character of a line that is not blank
        while True:
            self._blanks(stop_at_newline=False)
            if self.i >= len(self.text):
                return
            if not at_start:
                raise _Refused(f"line {self.line}: more on the line after a statement")
            self._statement()
            self._blanks(stop_at_newline=True)
            at_start = self.i >= len(self.text) or self.text[self.i] == "\n"

    def _statement(self) -> None:
        rest = self._rest_of_line()
        if rest.startswith("$"):
            self._legacy(rest)
            self._to_line_end()
            return
        if rest.startswith((":", "&")):
            self._to_line_end()  # a property filter, or "&" (one more action): taken literally
            return
        word = _WORD.match(rest)
        name = word.group(0).lower() if word else ""
        if name in STATEMENTS or rest.startswith(("{", "}")):
            raise _Refused(f"line {self.line}: RainerScript statements ({name or rest[0]}) are not read")
        after = rest[word.end() :].lstrip(" \t\r\n") if word else ""
        if name in OBJECTS and after.startswith("("):
            self._object(name)
            while True:  # more objects may follow on the same line, each name right before its "("
                self._blanks(stop_at_newline=True)
                line = self._rest_of_line()
                nxt = _WORD.match(line)
                if (
                    not nxt
                    or nxt.group(0).lower() not in OBJECTS
                    or not line[nxt.end() :].lstrip(" \t").startswith("(")
                ):
                    return  # read() refuses anything else left on the line
                self._object(nxt.group(0).lower())
        first = rest.split(None, 1)[0] if rest.split() else ""
        if _SELECTOR.match(first):
            action = rest[len(first) :].lstrip(" \t")
            if action.lower().startswith("action") and action[6:].lstrip().startswith("("):
                self.i += len(rest) - len(action)
                self._object("action")
            else:
                self._to_line_end()  # the action is taken literally to the end of the line
            return
        raise _Refused(f"line {self.line}: {rest[:40]!r} is not a statement this reader follows")

    def _legacy(self, line: str) -> None:
        words = line.split("#", 1)[0].split()
        directive = words[0].lower()
        if directive.startswith("$includeconfig"):
            if len(words) < 2:
                raise _Refused(f"line {self.line}: $IncludeConfig without its path on the line")
            self.includes.append((self.line, words[1]))
        elif directive.startswith("$modload"):
            if len(words) < 2:
                raise _Refused(f"line {self.line}: $ModLoad without its module on the line")
            self.modules.append((self.line, line.strip(), _module(words[1])))
        elif directive.startswith(LEGACY_LISTENERS):
            self.legacy_listeners.append((self.line, line.strip()))

    def _object(self, name: str) -> None:
        start = self.line
        self.i = self.text.index("(", self.i) + 1
        parameters: list[tuple[str, str]] = []
        while True:
            self._blanks(stop_at_newline=False)
            if self.i >= len(self.text):
                raise _Refused(f"the {name}(...) of line {start} never ends")
            if self.text[self.i] == ")":
                self.i += 1
                break
            key = _WORD.match(self.text, self.i)
            if key is None:
                raise _Refused(f"line {self.line}: {name}(...) holds something other than name=value")
            self.i = key.end()
            self._blanks(stop_at_newline=False)
            if not self.text.startswith("=", self.i):
                raise _Refused(f"line {self.line}: {name}(...) holds {key.group(0)!r} without a value")
            self.i += 1
            self._blanks(stop_at_newline=False)
            parameters.append((key.group(0).lower(), self._value()))
        shown = f"{name}({' '.join(f'{k}={v!r}' for k, v in parameters)})"
        for param, value in parameters:
            decides = (name, param) in (("module", "load"), ("input", "type"), ("include", "file"))
            if decides and value.startswith("`"):
                raise _Refused(f"line {start}: {name}({param}=`...`) is computed when rsyslogd starts")
            if (name, param) == ("include", "text"):
                raise _Refused(f"line {start}: include(text=...) is made when rsyslogd starts")
            if (name, param) in (("module", "load"), ("input", "type")):
                self.modules.append((start, shown, _module(value)))
            elif (name, param) == ("include", "file"):
                self.includes.append((start, value))

    def _value(self) -> str:
        char = self.text[self.i : self.i + 1]
        if char in ('"', "'"):
            end = self.i + 1
            while end < len(self.text) and self.text[end] != char:
                end += 2 if self.text[end] == "\\" else 1
            if end >= len(self.text):
                raise _Refused(f"line {self.line}: a string that never ends")
            raw, self.i = self.text[self.i + 1 : end], end + 1
            self.line += raw.count("\n")
            return _ESCAPE.sub(_unescape, raw)
        if char == "`":
            end = self.text.find("`", self.i + 1)
            if end < 0:
                raise _Refused(f"line {self.line}: a backtick string that never ends")
            raw, self.i = self.text[self.i : end + 1], end + 1
            self.line += raw.count("\n")
            return raw
        if char == "[":
            end = self.text.find("]", self.i)  # an array of plain strings
            if end < 0 or any(c in self.text[self.i : end] for c in "`\\("):
                raise _Refused(f"line {self.line}: an array this reader does not follow")
            raw, self.i = self.text[self.i : end + 1], end + 1
            self.line += raw.count("\n")
            return raw
        word = re.compile(r"[^\s)#\"'`]+").match(self.text, self.i)
        if word is None:
            raise _Refused(f"line {self.line}: a value this reader does not follow")
        self.i = word.end()
        return word.group(0)

    def _blanks(self, *, stop_at_newline: bool) -> None:
        """Past spaces, comments and (unless told to stop there) newlines."""
        text = self.text
        while self.i < len(text):
            char = text[self.i]
            if char == "\n":
                if stop_at_newline:
                    return
                self.line += 1
                self.i += 1
            elif char in " \t\r":
                self.i += 1
            elif char == "#":
                self._to_line_end()
            elif text.startswith("/*", self.i):
                end = text.find("*/", self.i + 2)
                if end < 0:
                    raise _Refused(f"line {self.line}: a comment that never ends")
                self.line += text.count("\n", self.i, end)
                self.i = end + 2
            else:
                return

    def _rest_of_line(self) -> str:
        end = self.text.find("\n", self.i)
        return self.text[self.i : len(self.text) if end < 0 else end]

    def _to_line_end(self) -> None:
        end = self.text.find("\n", self.i)
        self.i = len(self.text) if end < 0 else end


def _unescape(found: re.Match[str]) -> str:
    code = found.group(1)
    return chr(int(code, 8)) if len(code) == 3 else code


def _module(name: str) -> str:
    """A module's name as rsyslog loads it: the file name of a path, without ``.so``."""
    return name.rsplit("/", 1)[-1].removesuffix(".so")
