"""Whether systemd starts a unit at boot, read from the image's unit directories the way
``systemctl --root=IMAGE is-enabled`` reads them (the oracle of tests/facts/test_units.py), without a
running systemd.

systemd.unit(5) (https://www.freedesktop.org/software/systemd/man/latest/systemd.unit.html, checked
2026-12-07): units are looked for along the system unit search path, the first directory holding a name
winning. BOOT_UNIT_DIRS is that path as it stands when the image boots: /etc's control, main and
attached directories, /usr/local/lib, and /lib before /usr/lib (Debian's systemd, `systemd-analyze
unit-paths`; on a merged-/usr image they are one). /run is a fresh tmpfs at boot, so whatever an image
holds there is left out. A unit is:

- ``masked``: the winning file is a link to /dev/null, or empty (never started, not even by hand);
- ``enabled``: a ``*.wants/`` or ``*.requires/`` directory of /etc holds an entry that names it (systemd
  takes the dependency from the entry's name: the unit's own name, one of its aliases, or, for a link,
  the name it leads to), or, for a unit whose [Install] section installs nothing (static: journald), a
  vendor directory does;
- ``disabled``: installed, and nothing links it;
- ``missing``: no unit file of that name (a link to nowhere is none); an entry that is no file (a
  directory, a FIFO) is passed over, as systemd passes over it.

An instance (``getty@tty1.service``) loads its template's file (``getty@.service``) where it has none of
its own, and a template is enabled when one of its instances is linked. A unit file that is a link to a
unit file of another name is an alias (``systemctl enable chrony`` links chronyd.service to
chrony.service): it has the state of the unit it names, followed to the end of a chain (a loop is
unknown); a link to a file that is not named as a unit is that unit's own file.

A vendor ``.wants`` link of a unit with its own [Install] leaves it disabled, as systemctl says, but is
kept (``vendor_link``): boot starts the unit where that target is reached, so the checks that want a unit
off count it against the image. Not read (docs/compliance.md says so): ``Wants=`` in other units and their
drop-ins, and whether the target holding a link is reached at boot.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

CONFIG_DIRS = ("/etc/systemd/system.control", "/etc/systemd/system", "/etc/systemd/system.attached")
BOOT_UNIT_DIRS = (
    *CONFIG_DIRS,
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
)
DEPENDENCY_DIRS = (".wants", ".requires")
UNIT_SUFFIXES = (
    ".service",
    ".socket",
    ".timer",
    ".path",
    ".mount",
    ".target",
    ".automount",
    ".swap",
    ".slice",
)
INSTALL_KEYS = ("WantedBy", "RequiredBy", "UpheldBy", "Alias", "Also")  # systemd's keys are case-sensitive
MAX_ALIASES = 16  # links followed from one name before the chain counts as a loop


@dataclass(frozen=True)
class UnitIndex:
    """The unit directories listed once: each unit name's winning file and the dependency entries."""

    files: dict[str, str]  # unit name -> the file systemd loads (first directory of the search path)
    links: dict[str, tuple[str, ...]]  # unit name -> the .wants/.requires entries naming it


@dataclass(frozen=True)
class UnitState:
    name: str
    state: str  # masked, enabled, disabled, missing, or unknown (the unit file could not be read)
    path: str | None  # what shows it: the mask or unit file, or the first link that starts it
    reason: str | None = None  # why the unit file could not be read, for unknown
    # disabled, yet a vendor .wants/.requires entry names it: systemctl says disabled (the unit has its
    # own [Install]), while boot starts it where that target is reached (the red-team's systemd --test)
    vendor_link: str | None = None


def index_units(target: Target) -> UnitIndex | Unknown:
    """Every unit directory of the image listed; Unknown naming one that is there but cannot be read."""
    files: dict[str, str] = {}
    links: dict[str, list[str]] = {}
    for folder in BOOT_UNIT_DIRS:
        names = target.list_dir(folder)
        if isinstance(names, Unknown):
            if target.exists(folder) or target.readlink(folder) is not None:
                return Unknown(f"{folder}: {names.reason}")
            continue
        for name in names:
            path = f"{folder}/{name}"
            if name.endswith(DEPENDENCY_DIRS):
                found = _dependencies(target, path, links)
                if found is not None:
                    return found
            elif not name.endswith(".d") and (target.is_file(path) or target.readlink(path) is not None):
                files.setdefault(name, path)  # a directory or FIFO of a unit's name is passed over
    return UnitIndex(files, {name: tuple(paths) for name, paths in links.items()})


def _dependencies(target: Target, path: str, links: dict[str, list[str]]) -> Unknown | None:
    """The entries of one .wants/.requires directory, under their names and the names they lead to."""
    entries = target.list_dir(path)
    if isinstance(entries, Unknown):
        return Unknown(f"{path}: {entries.reason}") if target.is_dir(path) else None
    for unit in entries:
        entry = f"{path}/{unit}"
        links.setdefault(unit, []).append(entry)
        led = (target.readlink(entry) or "").rsplit("/", 1)[-1]
        if led and led != unit and led.endswith(UNIT_SUFFIXES):
            links.setdefault(led, []).append(entry)
    return None


def unit_state(target: Target, index: UnitIndex, name: str) -> UnitState:
    """The state of ``name``, followed through its aliases."""
    names = [name]  # the name asked for, then each unit an alias led to
    while True:
        path = index.files.get(names[-1]) or index.files.get(_template(names[-1]))
        if path is None:
            return UnitState(name, "missing", None)
        link = target.readlink(path)
        if link == "/dev/null":
            return UnitState(name, "masked", path)
        led = link.rsplit("/", 1)[-1] if link else names[-1]
        if led == names[-1] or not led.endswith(UNIT_SUFFIXES) or led not in index.files:
            break  # the unit's own file (where a link leads to a file of no unit's name, that file)
        if led in names or len(names) > MAX_ALIASES:
            return UnitState(name, "unknown", path, f"the aliases of {name} lead round in a loop")
        names.append(led)
    if not target.is_file(path):
        return UnitState(name, "missing", None)  # a link to nowhere, or not a file: no unit to start
    stat = target.stat(path)
    if not isinstance(stat, Unknown) and stat.size == 0:
        return UnitState(name, "masked", path)
    starting = [entry for unit in names for entry in index.links.get(unit, ()) + _instance_links(index, unit)]
    configured = [entry for entry in starting if entry.startswith(tuple(f"{d}/" for d in CONFIG_DIRS))]
    if configured:
        return UnitState(name, "enabled", configured[0])
    if starting:
        text = target.read_text(path)
        if isinstance(text, Unknown):  # whether the vendor's link enables it is in the file
            return UnitState(name, "unknown", path, text.reason)
        if not _installs(text):
            return UnitState(name, "enabled", starting[0])
    return UnitState(name, "disabled", path, vendor_link=starting[0] if starting else None)


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
    """Whether a unit file's [Install] section installs anything (systemctl's test for static): a
    WantedBy, RequiredBy, UpheldBy, Alias or Also with a value; lines continued with a backslash joined."""
    section, pending = "", ""
    for raw in text.splitlines():
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line, pending = (pending + raw).strip(), ""
        if line.startswith("[") and line.endswith("]"):
            section = line
        elif section == "[Install]" and "=" in line and not line.startswith(("#", ";")):
            key, value = line.split("=", 1)
            if key.strip() in INSTALL_KEYS and value.strip():
                return True
    return False
