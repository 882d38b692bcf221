"""``install MODULE COMMAND`` lines of modprobe.d: how an image keeps kernel modules from loading (CIS:
``install cramfs /bin/false``), in the order modprobe uses them.

Read as kmod reads its configuration (modprobe.d(5)): the ``*.conf`` and ``*.alias`` files of
/etc/modprobe.d, /run/modprobe.d (on a live host only), /usr/local/lib/modprobe.d, /usr/lib/modprobe.d
and /lib/modprobe.d, where a file overrides one of the same name in a later directory, all read in the
order of their names whatever the directory; a backslash escapes the next character, and one before the
newline goes on with the next line (a comment too); a comment is a line that starts with ``#``. modprobe
runs the first install command whose module matches, so a later ``install usb-storage /bin/false`` does
nothing after an earlier one that loads the module; and a line disables a module only where its whole
command is /bin/false or /bin/true. A file that is there but cannot be read is Unknown: what it says
could be the first install line.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

MODPROBE_DIRS = (
    "/etc/modprobe.d",
    "/run/modprobe.d",  # read on a live host only: an image's /run is a fresh tmpfs at boot
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)
SUFFIXES = (".conf", ".alias")  # the names kmod reads (conf_files_filter_out)
# An install command that keeps the module out: the program alone (a shell comment after it is harmless).
DISABLING = re.compile(r"(/usr)?/bin/(false|true)([ \t]+#.*)?", re.DOTALL)
KMOD_SPACE = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class InstallLine:  # not slotted: pattern is cached on the instance
    module: str  # as written: a name or a glob pattern, - and _ alike outside brackets
    command: str  # the whole command, as kmod hands it to the shell
    text: str  # the line, stripped
    path: str
    line: int

    @functools.cached_property
    def pattern(self) -> str | None:
        """The module pattern as kmod keeps it (underscores()); None where kmod ignores the line."""
        return underscores(self.module)

    def matches(self, name: str) -> bool:
        """Whether modprobe runs this line for module ``name`` (kmod's own names have no brackets):
        kmod matches the pattern with glibc's fnmatch, dashes read as underscores outside brackets.
        Raises Undecided for a pattern imagevet does not model."""
        pattern, wanted = self.pattern, name.replace("-", "_")
        if pattern is None:
            return False
        if not any(char in pattern for char in "*?[\\"):
            return pattern == wanted
        return _glob_regex(pattern).fullmatch(wanted) is not None

    @property
    def disables(self) -> bool:
        return DISABLING.fullmatch(self.command) is not None


def underscores(name: str) -> str | None:
    """kmod's underscores(): every ``-`` becomes ``_``, except inside ``[...]``, which runs to the first
    ``]`` after its ``[``; None for a stray ``]`` or an unterminated ``[``, where kmod ignores the line."""
    out, at = [], 0
    while at < len(name):
        char = name[at]
        if char == "]":
            return None
        if char == "[":
            end = name.find("]", at)
            if end < 0:
                return None
            out.append(name[at : end + 1])
            at = end + 1
            continue
        out.append("_" if char == "-" else char)
        at += 1
    return "".join(out)


class Undecided(Exception):
    """A pattern whose meaning to glibc's fnmatch imagevet does not model (a [:class:], [.x.] or [=x=]
    inside brackets): whether it matches is not judged."""


def _bracket(pattern: str, start: int) -> tuple[str, int] | None:
    """The regex class for the glibc bracket expression at ``pattern[start]`` (just after ``[``) and the
    index after its ``]``: ``!`` or ``^`` negates, a ``]`` first is a member, ``\\x`` is x, a range
    ``a-z`` is its span and a reversed one is empty (glibc matches nothing for it, the other members
    still count). None for an unterminated bracket (then ``[`` is a plain character)."""
    at, negate = start, False
    if at < len(pattern) and pattern[at] in "!^":
        negate, at = True, at + 1
    members: list[tuple[str, str]] = []
    first = True
    while at < len(pattern) and (pattern[at] != "]" or first):
        first = False
        char = pattern[at]
        if char == "[" and at + 1 < len(pattern) and pattern[at + 1] in ":.=":
            raise Undecided(pattern)
        if char == "\\" and at + 1 < len(pattern):
            at += 1
            char = pattern[at]
        at += 1
        if at + 1 < len(pattern) and pattern[at] == "-" and pattern[at + 1] != "]":
            high = pattern[at + 1]
            if high == "\\" and at + 2 < len(pattern):
                high, at = pattern[at + 2], at + 3
            else:
                at += 2
            if char <= high:
                members.append((char, high))
            continue
        members.append((char, char))
    if at >= len(pattern):
        return None
    spans = "".join(
        re.escape(low) if low == high else f"{re.escape(low)}-{re.escape(high)}" for low, high in members
    )
    if not spans:
        return ("[^\\s\\S]" if not negate else "[\\s\\S]"), at + 1
    return f"[{'^' if negate else ''}{spans}]", at + 1


@functools.lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """glibc fnmatch without flags, as a regular expression: ``*``, ``?``, bracket expressions
    (_bracket), ``\\`` escaping the next character. Undecided for what it does not model."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        i += 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and (found := _bracket(pattern, i)) is not None:
            out.append(found[0])
            i = found[1]
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


_ESCAPE = re.compile(r"\\(.)|\\\Z|\n", re.DOTALL)


def wrapped_lines(text: str) -> list[tuple[int, str]]:
    """Lines as kmod's freadline_wrapped reads them: a backslash escapes the next character (``\\\\`` is
    one backslash, ``\\x`` is x) and a backslash before the newline joins the next line. Each line keeps
    its first line number; linear in the text."""
    lines: list[tuple[int, str]] = []
    parts: list[str] = []
    number = start = 1
    position = 0
    for match in _ESCAPE.finditer(text):
        parts.append(text[position : match.start()])
        position = match.end()
        if match.group(0) == "\n":
            lines.append((start, "".join(parts)))
            parts = []
            number += 1
            start = number
        elif match.group(1) == "\n":
            number += 1  # joined with the next line
        elif match.group(1) is not None:
            parts.append(match.group(1))
    parts.append(text[position:])
    if any(parts):
        lines.append((start, "".join(parts)))
    return lines


def parse_install_lines(text: str, path: str) -> list[InstallLine]:
    found = []
    for number, line in wrapped_lines(text):
        if line.startswith("#"):
            continue
        words = KMOD_SPACE.split(line.lstrip(" \t"), maxsplit=2)  # strtok_r(line, "\t "): no other space
        if len(words) == 3 and words[0] == "install":
            found.append(InstallLine(words[1], words[2].strip(" \t"), line.strip(), path, number))
    return found


def config_files(target: Target) -> list[str]:
    """The files kmod reads, in its order: by name, each name from the first directory that has it."""
    live = target.is_live_host
    chosen: dict[str, str] = {}
    for directory in MODPROBE_DIRS:
        if directory.startswith("/run/") and not live:
            continue
        for path in target.glob(f"{directory}/*"):
            name = posixpath.basename(path)
            if name.endswith(SUFFIXES) and not name.startswith("."):
                chosen.setdefault(name, path)
    return [chosen[name] for name in sorted(chosen)]


def gather_modprobe(target: Target) -> tuple[InstallLine, ...] | Unknown:
    lines: list[InstallLine] = []
    for path in config_files(target):
        if not target.exists(path):
            continue  # a dangling link: modprobe cannot open it either
        text = target.read_text(path)
        if isinstance(text, Unknown):
            return Unknown(f"{path}: {text.reason}")
        lines += parse_install_lines(text, path)
    return tuple(lines)
