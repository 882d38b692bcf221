"""sudo's ``Defaults`` settings, from /etc/sudoers and the files it includes, in the order sudo reads them.

sudoers(5) is followed where it decides a verdict: lines continued with a backslash are joined; ``#`` starts
a comment except in ``#include``/``#includedir`` (the old spelling of ``@include``/``@includedir``); an
include path without a leading slash is relative to the including file's directory; an included directory's
files are read in name order, skipping names that end in ``~`` or contain a ``.`` (so a ``use_pty.bak``
counts for nothing, as for sudo). A Defaults line holds comma-separated settings, each ``name``,
``!name`` (an even number of ``!`` cancels out), ``name=value``, ``name+=value`` or ``name-=value``, and may
be scoped to users (``Defaults:``), hosts (``@``), run-as users (``>``) or commands (``!``).

No /etc/sudoers is "sudo not installed". A sudoers file that exists but cannot be read (binary, too large)
makes the whole fact Unknown: sudo itself refuses to run on a file it cannot parse, and a setting it holds
could reverse any verdict. A file that does not exist or is not a regular file (a dangling include, a
directory) is passed over, as sudo does.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

SUDOERS = "/etc/sudoers"
MAX_INCLUDE_DEPTH = 8  # sudo allows 128; real images nest one or two
_INCLUDE = re.compile(r"^[#@](include|includedir)\s+(\S.*)$")
# The scope is a list: blanks may stand around its commas ("Defaults:alice, bob !authenticate" scopes both:
# read as one word, "bob !authenticate" was dropped and the check passed while sudo applied it).
_DEFAULTS = re.compile(r"^Defaults(?:([:@>!])\s*((?:[^\s,]+\s*,\s*)*[^\s,]+))?(?:\s+(.*))?$")
_SETTING = re.compile(r"^(!*)\s*([A-Za-z_]+)\s*(?:(\+=|-=|=)\s*(.*))?$")


@dataclass(frozen=True)
class SudoSetting:
    """One setting of one Defaults line: ``use_pty``, ``!authenticate``, ``timestamp_timeout=5``."""

    name: str
    negated: bool
    op: str  # "", "=", "+=" or "-="
    value: str | None  # unquoted
    scope: str  # "" for every user, else the scope as written: ":alice", "@host", ">root", "!/bin/sh"
    path: str
    line: int
    text: str  # the whole Defaults line, joined and stripped


@dataclass(frozen=True)
class Sudoers:
    """Every Defaults setting of /etc/sudoers and its includes, in the order sudo reads them."""

    settings: tuple[SudoSetting, ...]
    files: tuple[str, ...]  # the files read, in order

    def global_value(self, name: str) -> SudoSetting | None:
        """The last setting of ``name`` on an unscoped Defaults line: the one in force for everyone."""
        found = [s for s in self.settings if s.name == name and not s.scope]
        return found[-1] if found else None

    def named(self, name: str) -> list[SudoSetting]:
        return [s for s in self.settings if s.name == name]


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with backslash continuations joined (in linear time: the parts of a long
    continued line are collected, then joined once)."""
    out: list[tuple[int, str]] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not parts:
            start = number
        if raw.endswith("\\"):
            parts.append(raw[:-1] + " ")
            continue
        parts.append(raw)
        out.append((start, "".join(parts)))
        parts = []
    if parts:
        out.append((start, "".join(parts)))
    return out


def _strip_comment(line: str) -> str:
    """Text before an unquoted ``#`` (a ``#`` right after a letter or digit, as in ``#1000``, is kept)."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"' and (index == 0 or line[index - 1] != "\\"):
            quoted = not quoted
        elif char == "#" and not quoted and (index == 0 or line[index - 1] in " \t,"):
            return line[:index]
    return line


def _split_settings(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for index, char in enumerate(text):
        if char == '"' and (index == 0 or text[index - 1] != "\\"):
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


@dataclass(frozen=True)
class Include:
    """An include directive: ``@include path`` (kind "include") or ``@includedir dir``."""

    kind: str
    where: str


def parse_settings(text: str, path: str) -> list[SudoSetting | Include]:
    """The Defaults settings and include directives of one file, in the order sudo meets them."""
    items: list[SudoSetting | Include] = []
    for number, raw in _logical_lines(text):
        stripped = raw.strip()
        include = _INCLUDE.match(stripped)
        if include:
            items.append(Include(include.group(1), include.group(2).strip().strip('"')))
            continue
        # The scope is read before comments are cut: in a user list "#1001" is a uid, not a comment
        # (sudoers(5)), so "Defaults:alice,#1001 !use_pty" applies to uid 1001.
        match = _DEFAULTS.match(stripped)
        if not match:
            continue
        line = _strip_comment(stripped).strip()
        scope = f"{match.group(1)}{match.group(2)}" if match.group(1) else ""
        for item in _split_settings(_strip_comment(match.group(3) or "")):
            setting = _SETTING.match(item)
            if not setting:
                continue
            bangs, name, op, value = setting.groups()
            if value is not None:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
            items.append(SudoSetting(name, len(bangs) % 2 == 1, op or "", value, scope, path, number, line))
    return items


def _included(target: Target, base: str, kind: str, where: str) -> list[str]:
    path = where if where.startswith("/") else posixpath.join(posixpath.dirname(base), where)
    if kind == "include":
        return [path]
    names = sorted(p for p in target.glob(path.rstrip("/") + "/*"))
    return [p for p in names if not p.endswith("~") and "." not in posixpath.basename(p)]


def gather_sudoers(target: Target) -> Sudoers | Unknown | None:
    """The Defaults settings; None when sudo is not installed (no /etc/sudoers)."""
    if not target.exists(SUDOERS):
        return None
    settings: list[SudoSetting] = []
    files: list[str] = []

    def read(path: str, depth: int) -> Unknown | None:
        if depth > MAX_INCLUDE_DEPTH:
            return Unknown(f"{path}: sudoers includes nest deeper than {MAX_INCLUDE_DEPTH}")
        if not target.is_file(path):  # missing, dangling or not a regular file: sudo passes it over
            return None
        text = target.read_text(path)
        if isinstance(text, Unknown):
            return Unknown(f"{path}: {text.reason} (sudo would not run with a sudoers file it cannot parse)")
        files.append(path)
        for item in parse_settings(text, path):
            if isinstance(item, SudoSetting):
                settings.append(item)
                continue
            for included in _included(target, path, item.kind, item.where):
                problem = read(included, depth + 1)
                if problem:
                    return problem
        return None

    problem = read(SUDOERS, 0)
    if problem:
        return problem
    return Sudoers(tuple(settings), tuple(files))
