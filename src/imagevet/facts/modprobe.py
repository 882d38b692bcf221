"""``install MODULE COMMAND`` lines of modprobe.d: how an image keeps kernel modules from loading (CIS:
``install cramfs /bin/false``), in the order modprobe uses them.

Read as kmod reads its configuration (modprobe.d(5)): the ``*.conf`` files of /etc/modprobe.d,
/run/modprobe.d, /usr/local/lib/modprobe.d, /usr/lib/modprobe.d and /lib/modprobe.d, where a file
overrides one of the same name in a later directory, all read in the order of their names whatever the
directory; a line ending in a backslash goes on with the next one (a comment too), a comment is a line
that starts with ``#``. modprobe runs the first install command whose module matches, so a later
``install usb-storage /bin/false`` does nothing after an earlier one that loads the module. A file that is
there but cannot be read is Unknown: what it says could be the first install line.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

MODPROBE_DIRS = (
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)


@dataclass(frozen=True)
class InstallLine:
    module: str  # as written: a name or a shell pattern, - and _ alike
    command: str  # the first word of the command
    text: str  # the line, stripped
    path: str
    line: int

    def matches(self, name: str) -> bool:
        """Whether modprobe runs this line for module ``name`` (kmod matches the pattern with fnmatch,
        dashes read as underscores)."""
        return fnmatch.fnmatchcase(underscores(name), underscores(self.module))


def underscores(name: str) -> str:
    return name.replace("-", "_")


def wrapped_lines(text: str) -> list[tuple[int, str]]:
    """Lines joined where one ends in a backslash (kmod's freadline_wrapped), with their first line."""
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        start, before = pending if pending else (number, "")
        if raw.endswith("\\"):
            pending = (start, before + raw[:-1])
            continue
        joined.append((start, before + raw))
        pending = None
    if pending:
        joined.append(pending)
    return joined


def parse_install_lines(text: str, path: str) -> list[InstallLine]:
    found = []
    for number, line in wrapped_lines(text):
        if line.startswith("#"):
            continue
        words = line.split()
        if len(words) >= 3 and words[0] == "install":
            found.append(InstallLine(words[1], words[2], line.strip(), path, number))
    return found


def config_files(target: Target) -> list[str]:
    """The files kmod reads, in its order: by name, each name from the first directory that has it."""
    chosen: dict[str, str] = {}
    for directory in MODPROBE_DIRS:
        for path in target.glob(f"{directory}/*.conf"):
            chosen.setdefault(posixpath.basename(path), path)
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
