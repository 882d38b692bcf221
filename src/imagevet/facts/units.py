"""Whether systemd starts a unit at boot, read from the image's unit directories the way
``systemctl --root=IMAGE is-enabled`` reads them (the oracle of tests/facts/test_units.py), without a
running systemd.

systemd.unit(5) (https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html, checked
2026-12-07): units are looked for along the system unit search path (facts/mounts.UNIT_DIRS), the first
directory holding a name winning; a unit file that is a link to /dev/null, or empty, is masked (never
started, not even by hand); ``systemctl enable`` (or the vendor, for units without an [Install] section,
which systemctl calls static) puts a link to it in a ``<unit>.wants/`` or ``<unit>.requires/`` directory of
another unit, which starts it. So a unit is:

- ``masked``: the winning file is a link to /dev/null or empty;
- ``enabled``: a ``*.wants/`` or ``*.requires/`` directory of /etc (or /run) holds an entry of its name
  (systemd takes the dependency from the name, not from where the link leads), or, for a unit whose
  [Install] section installs nothing (static: journald), one of the vendor directories does. A vendor
  link to a unit that has its own [Install] is not its enabling, as systemctl says (Debian's
  remote-cryptsetup.target is wanted only by the initrd's targets);
- ``disabled``: installed, and nothing links it;
- ``missing``: no unit file of that name (a link to nowhere is none).

An instance (``getty@tty1.service``) loads its template's file (``getty@.service``) where it has none of
its own, and a template is enabled when one of its instances is linked. A unit file that is a link to a
unit of another name is an alias (``systemctl enable chrony`` links
chronyd.service to chrony.service): it has the state of the unit it names.

Sockets, timers and paths that would start a service are their own units, judged by their own names.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.facts.mounts import UNIT_DIRS
from imagevet.model import Unknown
from imagevet.target.base import Target

DEPENDENCY_DIRS = (".wants", ".requires")
CONFIG_DIRS = ("/etc/systemd/system/", "/run/systemd/system/")  # the administrator's, not the vendor's
INSTALL_KEYS = ("WantedBy", "RequiredBy", "UpheldBy", "Alias", "Also", "DefaultInstance")


@dataclass(frozen=True)
class UnitIndex:
    """The unit directories listed once: each unit name's winning file and the dependency links naming it."""

    files: dict[str, str]  # unit name -> the file systemd loads (first directory of the search path)
    links: dict[str, tuple[str, ...]]  # unit name -> the .wants/.requires links of that name


@dataclass(frozen=True)
class UnitState:
    name: str
    state: str  # masked, enabled, disabled, missing, or unknown (the unit file could not be read)
    path: str | None  # what shows it: the mask or unit file, or the first link that starts it
    reason: str | None = None  # why the unit file could not be read, for unknown


def index_units(target: Target) -> UnitIndex | Unknown:
    """Every unit directory of the image listed; Unknown naming one that is there but cannot be read."""
    files: dict[str, str] = {}
    links: dict[str, list[str]] = {}
    for folder in UNIT_DIRS:
        names = target.list_dir(folder)
        if isinstance(names, Unknown):
            if target.exists(folder) or target.readlink(folder) is not None:
                return Unknown(f"{folder}: {names.reason}")
            continue
        for name in names:
            path = f"{folder}/{name}"
            if name.endswith(DEPENDENCY_DIRS):
                linked = target.list_dir(path)
                if isinstance(linked, Unknown):
                    if target.is_dir(path):
                        return Unknown(f"{path}: {linked.reason}")
                    continue
                for unit in linked:
                    links.setdefault(unit, []).append(f"{path}/{unit}")
            elif not name.endswith(".d"):  # drop-in directories change settings, not whether it starts
                files.setdefault(name, path)
    return UnitIndex(files, {name: tuple(paths) for name, paths in links.items()})


def unit_state(target: Target, index: UnitIndex, name: str, shown: str | None = None) -> UnitState:
    """The state of ``name`` (reported as ``shown``, the alias asked for, where one led here)."""
    shown = shown or name
    path = index.files.get(name) or index.files.get(_template(name))
    if path is None:
        return UnitState(shown, "missing", None)
    link = target.readlink(path)
    if link == "/dev/null":
        return UnitState(shown, "masked", path)
    named = link.rsplit("/", 1)[-1] if link else name
    if named != name and shown == name:  # an alias: followed one step, as systemd does
        return unit_state(target, index, named, shown)
    if not target.is_file(path):
        return UnitState(shown, "missing", None)  # a link to nowhere, or not a file: no unit to start
    stat = target.stat(path)
    if not isinstance(stat, Unknown) and stat.size == 0:
        return UnitState(shown, "masked", path)
    starting = index.links.get(name) or _instance_links(index, name)
    configured = [link for link in starting if link.startswith(CONFIG_DIRS)]
    if configured:
        return UnitState(shown, "enabled", configured[0])
    if starting:
        text = target.read_text(path)
        if isinstance(text, Unknown):  # whether the vendor's link enables it is in the file
            return UnitState(shown, "unknown", path, text.reason)
        if not _installs(text):
            return UnitState(shown, "enabled", starting[0])
    return UnitState(shown, "disabled", path)


def _template(name: str) -> str:
    """``getty@tty1.service`` is an instance of ``getty@.service``, whose file it loads when it has none."""
    prefix, at, rest = name.partition("@")
    return f"{prefix}@{rest[rest.rfind('.') :]}" if at and rest else name


def _instance_links(index: UnitIndex, name: str) -> tuple[str, ...]:
    """A template is enabled through its instances: ``getty.target.wants/getty@tty1.service``."""
    prefix, at, rest = name.partition("@")
    if not at or not rest.startswith("."):
        return ()
    return tuple(
        link
        for unit, links in index.links.items()
        if unit.startswith(prefix + "@") and unit.endswith(rest)
        for link in links
    )


def _installs(text: str) -> bool:
    """Whether a unit file's [Install] section installs anything (systemctl's test for static)."""
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line
        elif section == "[Install]" and line.split("=", 1)[0].strip() in INSTALL_KEYS:
            return True
    return False
