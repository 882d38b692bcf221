"""A reader for apt.conf(5) syntax: enough to know the effective ``APT::Periodic::*`` values.

apt reads the files of /etc/apt/apt.conf.d in lexical order, then /etc/apt/apt.conf; a later assignment
overrides an earlier one. Both ``A::B "v";`` and nested ``A { B "v"; };`` forms are accepted, with
``//``, ``/* */`` and ``#`` comments, and ``#clear`` to drop a subtree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

APT_CONF_D = "/etc/apt/apt.conf.d"
APT_CONF = "/etc/apt/apt.conf"

_TOKEN = re.compile(r'"(?P<str>[^"]*)"|(?P<punct>[{};])|(?P<word>[^\s{};"]+)')


@dataclass(frozen=True)
class AptValue:
    """A value set in apt's configuration, with its file and line."""

    value: str
    path: str
    line: int


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.DOTALL)
    lines = []
    for line in text.splitlines():
        out, in_str = [], False
        i = 0
        while i < len(line):
            ch = line[i]
            if ch == '"':
                in_str = not in_str
            elif not in_str and line.startswith("//", i):
                break
            out.append(ch)
            i += 1
        stripped = "".join(out)
        if stripped.lstrip().startswith("#") and not stripped.lstrip().startswith("#clear"):
            stripped = ""
        lines.append(stripped)
    return "\n".join(lines)


def apply_apt_conf(values: dict[str, AptValue], text: str, path: str) -> list[str]:
    """Apply one file's assignments to ``values`` (keys lower-cased as apt matches them); return problems."""
    problems: list[str] = []
    scope: list[str] = []
    pending: list[str] = []  # words seen since the last statement end
    for number, line in enumerate(_strip_comments(text).splitlines(), start=1):
        for token in _TOKEN.finditer(line):
            if token.group("punct") == "{":
                if pending:
                    scope.append(pending[0])
                    pending = []
                else:
                    scope.append("")
            elif token.group("punct") == "}":
                if scope:
                    scope.pop()
                else:
                    problems.append(f"{path}:{number}: unbalanced '}}'")
                pending = []
            elif token.group("punct") == ";":
                pending = []
            elif token.group("str") is not None:
                if pending:
                    key = "::".join([*[s for s in scope if s], pending[0]]).lower()
                    values[key] = AptValue(token.group("str"), path, number)
                pending = []
            else:
                word = token.group("word") or ""
                if word == "#clear":
                    pending = ["#clear"]
                    continue
                if pending == ["#clear"]:
                    prefix = word.rstrip(";").lower()
                    for key in [k for k in values if k == prefix or k.startswith(prefix + "::")]:
                        del values[key]
                    pending = []
                    continue
                pending.append(word)
    if scope:
        problems.append(f"{path}: unbalanced '{{'")
    return problems


def gather_apt_conf(target: Target) -> tuple[dict[str, AptValue], list[str]]:
    values: dict[str, AptValue] = {}
    problems: list[str] = []
    paths = []
    names = target.list_dir(APT_CONF_D)
    if not isinstance(names, Unknown):
        # apt skips names with characters outside [A-Za-z0-9_.-] and dpkg leftovers.
        paths = [
            f"{APT_CONF_D}/{n}"
            for n in names
            if re.fullmatch(r"[A-Za-z0-9_.\-]+", n) and not n.endswith((".dpkg-old", ".dpkg-dist", ".bak"))
        ]
    paths.append(APT_CONF)
    for path in paths:
        text = target.read_text(path)
        if isinstance(text, Unknown):
            if target.exists(path):
                problems.append(text.reason)
            continue
        problems += apply_apt_conf(values, text, path)
    return values, problems
