"""Where AIDE keeps its database, whether the database is there, and what runs AIDE's check on a schedule
(CIS "Ensure AIDE is installed" asks for the database to be built, "Ensure filesystem integrity is regularly
checked" for the schedule).

The database is the ``database_in`` (AIDE 0.16's ``database``) of the main configuration, with its
``@@define`` variables expanded: /etc/aide/aide.conf on Debian and Ubuntu (``file:/var/lib/aide/aide.db``),
/etc/aide.conf on the Red Hat family (``file:@@{DBDIR}/aide.db.gz``). A schedule is an enabled systemd
timer of AIDE's (Debian's dailyaidecheck.timer, the aidecheck.timer CIS's RHEL remediation makes), a
crontab line that runs ``aide --check`` (or ``--update``, ``-C``, ``-u``, Debian's ``$AIDEARGS`` form), or
a script in /etc/cron.daily or /etc/cron.weekly that does (Debian's ``dailyaidecheck`` included). A file
that cannot be read is reported, never taken as "no schedule".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

CONFIGS = ("/etc/aide/aide.conf", "/etc/aide.conf")
TIMERS = ("dailyaidecheck.timer", "aidecheck.timer")
UNIT_DIRS = ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
CRONTABS = ("/etc/crontab", "/etc/cron.d/*", "/var/spool/cron/crontabs/*", "/var/spool/cron/*")
CRON_SCRIPTS = ("/etc/cron.daily/*", "/etc/cron.weekly/*")
_DEFINE = re.compile(r"^@@define\s+(\w+)\s+(\S+)")
_DATABASE = re.compile(r"^database(?:_in)?\s*=\s*(\S+)")
_VARIABLE = re.compile(r"@@\{(\w+)\}")
_SEPARATORS = re.compile(r"[;&|]+")
MODES = frozenset({"--check", "--update", "-C", "-u", "$AIDEARGS", '"$AIDEARGS"'})


@dataclass(frozen=True)
class Schedule:
    """Something that runs AIDE's check: a timer, a crontab line or a cron script."""

    what: str
    path: str
    line: int | None = None


@dataclass(frozen=True)
class AideFacts:
    config: str | None  # the main configuration read, None when there is none
    database: str | Unknown | None  # the database path; None without a configuration
    database_present: bool
    schedules: tuple[Schedule, ...]
    unreadable: tuple[str, ...]  # files that could hold a schedule but could not be read


def database_path(text: str) -> str | None:
    """The database AIDE reads, from a configuration's text (the last database_in wins, as in AIDE)."""
    defines: dict[str, str] = {}
    found = None
    for raw in text.splitlines():
        line = raw.strip()
        define = _DEFINE.match(line)
        if define:
            defines[define.group(1)] = define.group(2)
            continue
        database = _DATABASE.match(line)
        if database:
            found = _VARIABLE.sub(lambda m: defines.get(m.group(1), m.group(0)), database.group(1))
    if found is None or "@@{" in found:
        return None
    return found.removeprefix("file:")


def runs_check(line: str) -> bool:
    """Whether a command line runs aide (or aide.wrapper) with a checking or updating mode among its
    arguments, or Debian's dailyaidecheck. Linear in the line: words, never a backtracking pattern."""
    text = line.split("#", 1)[0]
    if "dailyaidecheck" in text:
        return True
    for command in _SEPARATORS.split(text):
        seen_aide = False
        for word in command.split():
            if seen_aide and word in MODES:
                return True
            seen_aide = seen_aide or word.rsplit("/", 1)[-1] in ("aide", "aide.wrapper")
    return False


def _timers(target: Target) -> list[Schedule]:
    found = []
    for timer in TIMERS:
        for link in target.glob(f"/etc/systemd/system/*.wants/{timer}"):
            if any(target.is_file(f"{d}/{timer}") for d in UNIT_DIRS):
                found.append(Schedule(f"systemd timer {timer} enabled", link))
    return found


def _readable(target: Target, patterns: tuple[str, ...], unreadable: list[str]) -> list[tuple[str, str]]:
    """(path, text) of the regular files the patterns match; the ones that cannot be read are noted."""
    found = []
    for pattern in patterns:
        for path in target.glob(pattern):
            if not target.is_file(path):
                continue
            text = target.read_text(path)
            if isinstance(text, Unknown):
                unreadable.append(path)
            else:
                found.append((path, text))
    return found


def _cron(target: Target) -> tuple[list[Schedule], list[str]]:
    found: list[Schedule] = []
    unreadable: list[str] = []
    for path, text in _readable(target, CRONTABS, unreadable):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.lstrip().startswith("#") and runs_check(line):
                found.append(Schedule(f"cron: {line.strip()}", path, number))
    for path, text in _readable(target, CRON_SCRIPTS, unreadable):
        if any(not line.lstrip().startswith("#") and runs_check(line) for line in text.splitlines()):
            found.append(Schedule("cron script runs aide's check", path))
    return found, unreadable


def gather_aide(target: Target) -> AideFacts:
    config = next((path for path in CONFIGS if target.exists(path)), None)
    database: str | Unknown | None = None
    present = False
    if config is not None:
        text = target.read_text(config)
        if isinstance(text, Unknown):
            database = Unknown(f"{config}: {text.reason}")
        else:
            path = database_path(text)
            database = path if path else Unknown(f"{config} names no database_in AIDE can use")
            if path:
                node = target.stat(path)
                present = not isinstance(node, Unknown) and node.kind == "file" and node.size > 0
    cron, unreadable = _cron(target)
    return AideFacts(config, database, present, tuple(_timers(target) + cron), tuple(unreadable))
