"""``install MODULE COMMAND`` lines of /etc/modprobe.d/*.conf: how an image keeps kernel modules from
loading (CIS: ``install cramfs /bin/false``). Unreadable files are passed over, as modprobe does."""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

MODPROBE_D = "/etc/modprobe.d/*.conf"


@dataclass(frozen=True)
class InstallLine:
    module: str
    command: str  # the first word of the command
    text: str  # the line, stripped
    path: str
    line: int


def parse_install_lines(text: str, path: str) -> list[InstallLine]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if len(words) >= 3 and words[0] == "install":
            found.append(InstallLine(words[1], words[2], line.strip(), path, number))
    return found


def gather_modprobe(target: Target) -> tuple[InstallLine, ...]:
    lines: list[InstallLine] = []
    for path in target.glob(MODPROBE_D):
        text = target.read_text(path)
        if not isinstance(text, Unknown):
            lines += parse_install_lines(text, path)
    return tuple(lines)
