"""``Key=Value`` settings of a systemd configuration file and its ``.d/*.conf`` drop-ins (coredump.conf,
journald.conf), and whether journald has a persistent journal directory.

Keys and values are kept lower-cased with blanks removed, in reading order (main file first): the checks
ask "is Storage=none set anywhere", and name the first line that sets it.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

COREDUMP_CONF = "/etc/systemd/coredump.conf"
JOURNALD_CONF = "/etc/systemd/journald.conf"
JOURNAL_DIR = "/var/log/journal"


@dataclass(frozen=True)
class SystemdSetting:
    """One setting of a systemd configuration file, with its file and line."""

    key: str  # lower-case
    value: str  # lower-case
    path: str
    line: int


@dataclass(frozen=True)
class Journald:
    """journald's settings after the drop-ins, and whether the persistent journal directory exists."""

    settings: tuple[SystemdSetting, ...]
    journal_dir: bool  # /var/log/journal exists: journald's "auto" storage keeps logs across reboots


def parse_settings(text: str, path: str) -> list[SystemdSetting]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        squeezed = line.strip().replace(" ", "").lower()
        key, equals, value = squeezed.partition("=")
        if equals and key and not key.startswith(("#", ";", "[")):
            found.append(SystemdSetting(key, value, path, number))
    return found


def gather_systemd_conf(target: Target, main: str) -> tuple[SystemdSetting, ...]:
    settings: list[SystemdSetting] = []
    for path in [main, *target.glob(f"{main}.d/*.conf")]:
        text = target.read_text(path)
        if not isinstance(text, Unknown):
            settings += parse_settings(text, path)
    return tuple(settings)


def first_setting(settings: tuple[SystemdSetting, ...], key: str, value: str) -> SystemdSetting | None:
    """The first line setting ``key`` to ``value`` (both compared lower-case)."""
    return next((s for s in settings if s.key == key.lower() and s.value == value.lower()), None)


def gather_journald(target: Target) -> Journald:
    return Journald(gather_systemd_conf(target, JOURNALD_CONF), target.is_dir(JOURNAL_DIR))
