"""``Key=Value`` settings of a systemd configuration file and its ``.d/*.conf`` drop-ins (coredump.conf,
journald.conf), and whether journald has a persistent journal directory.

Keys and values are kept lower-cased with blanks removed, in reading order (main file first): the checks
ask "is Storage=none set anywhere", and name the first line that sets it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imagevet.model import Unknown
from imagevet.target.base import Target

COREDUMP_CONF = "/etc/systemd/coredump.conf"
JOURNALD_CONF = "/etc/systemd/journald.conf"
JOURNAL_DIR = "/var/log/journal"
JOURNALD_DAEMONS = ("/usr/lib/systemd/systemd-journald", "/lib/systemd/systemd-journald")


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
    # What journald itself uses (effective_settings): keys as written, the last value winning; Unknown
    # where a file it reads cannot be.
    effective: dict[str, SystemdSetting] | Unknown = field(default_factory=dict)
    installed: bool = True  # systemd-journald is in the image (an image without systemd has no journal)


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
    return Journald(
        gather_systemd_conf(target, JOURNALD_CONF),
        target.is_dir(JOURNAL_DIR),
        effective_settings(target, "journald.conf", "Journal"),
        any(target.exists(path) for path in JOURNALD_DAEMONS),
    )


# Where systemd looks for a daemon's configuration, highest priority first (systemd.syntax(7),
# journald.conf(5) "CONFIGURATION DIRECTORIES AND PRECEDENCE").
CONFIG_DIRS = ("/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd")


def config_files(target: Target, name: str) -> list[str]:
    """The files systemd reads for ``name``, in order: the main file (the first directory that has one),
    then the ``name.d/*.conf`` drop-ins of all directories sorted by file name, a name in a higher
    directory hiding the same name below it, a link to /dev/null masking it."""
    main = next((f"{d}/{name}" for d in CONFIG_DIRS if target.is_file(f"{d}/{name}")), None)
    drop_ins: dict[str, str] = {}
    for directory in CONFIG_DIRS:
        for path in target.glob(f"{directory}/{name}.d/*.conf"):
            drop_ins.setdefault(path.rsplit("/", 1)[1], path)
    ordered = [drop_ins[base] for base in sorted(drop_ins)]
    return [p for p in ([main] if main else []) + ordered if target.readlink(p) != "/dev/null"]


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each line after systemd.syntax(7)'s continuation: a line ending in a
    backslash goes on in the next one (the backslash becomes a blank), stripped."""
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        start, head = pending if pending is not None else (number, "")
        line = head + raw.strip()
        if line.endswith("\\") and not line.startswith(("#", ";")):
            pending = (start, line[:-1] + " ")
            continue
        pending = None
        joined.append((start, line.strip()))
    if pending is not None:
        joined.append((pending[0], pending[1].strip()))
    return joined


def effective_settings(target: Target, name: str, section: str) -> dict[str, SystemdSetting] | Unknown:
    """``Key=Value`` of ``[section]`` as the daemon reads them: keys and values as written (systemd's keys
    are case-sensitive), the last assignment winning and an empty one resetting the key to its default;
    Unknown naming the file where one cannot be read (a setting in it could change the verdict)."""
    found: dict[str, SystemdSetting] = {}
    for path in config_files(target, name):
        text = target.read_text(path)
        if isinstance(text, Unknown):
            return Unknown(f"{path}: {text.reason}")
        current = ""
        for number, line in _logical_lines(text.removeprefix("\ufeff")):
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1]
                continue
            key, equals, value = line.partition("=")
            if not equals or current != section:
                continue
            key, value = key.strip(), value.strip()
            if value:
                found[key] = SystemdSetting(key, value, path, number)
            else:
                found.pop(key, None)
    return found
