"""The configuration lines of the image's time synchronisation daemons (chrony, systemd-timesyncd, ntpd),
comments left out: the cloud checks look for the cloud's own time service among them."""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

TIME_CONFIGS = (
    "/etc/chrony/chrony.conf",
    "/etc/chrony.conf",
    "/etc/chrony/conf.d/*.conf",
    "/etc/chrony/sources.d/*.sources",
    "/etc/systemd/timesyncd.conf",
    "/etc/systemd/timesyncd.conf.d/*.conf",
    "/etc/ntp.conf",
    "/etc/ntpsec/ntp.conf",
)


@dataclass(frozen=True)
class ConfigLine:
    """One line of a time-sync daemon's configuration, with its file and line."""

    text: str
    path: str
    line: int


def expand(target: Target, patterns: tuple[str, ...]) -> list[str]:
    """The files ``patterns`` name in the image, in the patterns' order (globs in lexical order)."""
    paths: list[str] = []
    for pattern in patterns:
        if "*" in pattern:
            paths += target.glob(pattern)
        elif target.is_file(pattern):
            paths.append(pattern)
    return paths


def parse_config_lines(text: str, path: str) -> list[ConfigLine]:
    return [
        ConfigLine(line, path, number)
        for number, line in enumerate(text.splitlines(), start=1)
        if not line.lstrip().startswith(("#", ";"))
    ]


def gather_time_config(target: Target) -> tuple[ConfigLine, ...]:
    lines: list[ConfigLine] = []
    for path in expand(target, TIME_CONFIGS):
        text = target.read_text(path)
        if not isinstance(text, Unknown):
            lines += parse_config_lines(text, path)
    return tuple(lines)
