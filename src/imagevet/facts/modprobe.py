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
class InstallLine:
    module: str  # as written: a name or a glob pattern, - and _ alike outside brackets
    command: str  # the whole command, as kmod hands it to the shell
    text: str  # the line, stripped
    path: str
    line: int

    def matches(self, name: str) -> bool:
        """Whether modprobe runs this line for module ``name``: kmod matches the pattern with glibc's
        fnmatch, dashes read as underscores outside brackets."""
        module, wanted = underscores(self.module), underscores(name)
        if module is None or wanted is None:
            return False
        pattern = _glob_regex(module)
        return pattern is not None and pattern.fullmatch(wanted) is not None

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


@functools.lru_cache(maxsize=4096)
def _glob_regex(pattern: str) -> re.Pattern[str] | None:
    """glibc fnmatch without flags, as a regular expression: ``*``, ``?``, ``[...]`` with ``!`` or ``^``
    negating it, ``\\`` escaping the next character; None where no name can match (an unterminated or
    reversed bracket: kmod ignores such a line). Cached: each pattern is compiled once per audit."""
    if not any(char in pattern for char in "*?[\\"):
        return re.compile(re.escape(pattern))
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            j = i + 1
            negate = j < len(pattern) and pattern[j] in "!^"
            j += negate
            first = j
            while j < len(pattern) and (pattern[j] != "]" or j == first):
                j += 1
            if j >= len(pattern):
                return None
            members = "".join("\\" + c if c in "\\^[]" else c for c in pattern[first:j])
            out.append(f"[{'^' if negate else ''}{members}]")
            i = j
        else:
            out.append(re.escape(char))
        i += 1
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        return None


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
