"""The dpkg database as dpkg 1.21 loads it (lib/dpkg/parse.c, dbmodify.c): pure logic over file texts.

* Every stanza is checked field by field (dpkgfields) and as a whole (``pkg_parse_verify``): a Package
  name, a Version unless not-installed or half-installed, ``Multi-Arch: same`` only with a real
  architecture, Config-Version and trigger fields consistent with the Status.
* A package is one *instance per name and architecture*: ``libssl3:amd64`` and ``libssl3:i386`` (both
  ``Multi-Arch: same``) are two packages. Two instances of one name that are not both ``Multi-Arch: same``
  make dpkg refuse the database ("multiple non-coinstallable package instances"), and so do we. A later
  stanza for the same name and architecture replaces the earlier one, as in dpkg.
* The journal ``updates/NNNN`` (written by an interrupted dpkg run) is applied on top of the status
  file, one stanza per file, as dpkg does on every start: a package recorded only there is installed.

Which instances count as installed: every state whose files are on disk, from ``half-installed`` to
``installed`` (dpkg-query lists them too); ``not-installed`` and ``config-files`` are not packages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imagevet.inventory import dpkgfields as f
from imagevet.inventory.deb822 import Deb822Error, Stanza, parse_stanzas

DEPENDENCY_FIELDS = frozenset(
    "replaces provides depends pre-depends recommends suggests breaks conflicts enhances "
    "recommended optional".split()
)
FREE_FIELDS = frozenset("section installed-size origin maintainer bugs source description".split())
ARCHIVE_FIELDS = frozenset({"filename", "size", "md5sum", "msdos-filename"})
REVISION_FIELDS = frozenset({"revision", "package-revision", "package_revision"})
KNOWN_FIELDS = (
    DEPENDENCY_FIELDS
    | FREE_FIELDS
    | ARCHIVE_FIELDS
    | REVISION_FIELDS
    | frozenset(
        "package essential protected status priority class architecture multi-arch version "
        "config-version conffiles triggers-pending triggers-awaited".split()
    )
)
MAX_UPDATE_NAME = 10  # dpkg's IMPORTANTMAXLEN


class DpkgError(ValueError):
    """dpkg would refuse this database; ``line`` is the 1-based line (0 when not about one line)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


@dataclass
class Instance:
    """One package instance, the fields an inventory needs."""

    name: str
    arch: str
    multiarch_same: bool
    status: int
    version: f.Version | None
    source: str
    line: int

    @property
    def installed(self) -> bool:
        return self.status >= f.HALF_INSTALLED


@dataclass
class Database:
    """Package sets by name, each a list of instances (dpkg's pkgset and its per-arch pkginfo slots)."""

    sets: dict[str, list[Instance]] = field(default_factory=dict)

    def instances(self) -> list[Instance]:
        return [i for slots in self.sets.values() for i in slots if i.installed]


def instance_from_stanza(stanza: Stanza, default_status: int = f.NOT_INSTALLED) -> Instance:
    """Check a stanza the way dpkg's parser does and return the instance it describes.

    ``default_status`` is the status of a stanza without a Status field: not-installed for dpkg's own
    files, installed for distroless ``status.d`` files (which never carry one: presence means installed).
    """
    seen: set[str] = set()
    name: str | None = None
    arch = ""
    multiarch = 0
    status = default_status
    version: f.Version | None = None
    config_version = False
    source = ""
    pending: list[str] = []
    awaited: list[str] = []
    for entry in stanza.fields:
        key = entry.name.lower()
        label = entry.name if key in KNOWN_FIELDS else "a user-defined field"
        if key in seen:
            raise DpkgError(entry.line, f"duplicate value for {label}")
        seen.add(key)
        if key not in KNOWN_FIELDS:
            if len(entry.name) < 2:
                raise DpkgError(entry.line, "a user-defined field name is shorter than 2 characters")
            continue
        value = f.c_string(entry.value)
        try:
            if key == "package":
                name = f.check_package(value)
            elif key == "status":
                status = f.parse_status(value)[2]
            elif key == "version":
                version = f.parse_version(value)
            elif key == "config-version":
                f.parse_version(value, "Config-Version")
                config_version = True
            elif key == "architecture":
                arch = value  # an illegal name is only a warning for dpkg
            elif key == "multi-arch" and value:
                multiarch = f.name_value(value, f.MULTIARCH, "Multi-Arch", last=True)[0]
            elif key in ("essential", "protected") and value:
                f.name_value(value, f.BOOLEAN, entry.name, last=True)
            elif key in ("priority", "class") and value:
                f.name_value(value, f.PRIORITY, "Priority", last=True, fallback=True)
            elif key in DEPENDENCY_FIELDS:
                f.check_dependency(value, entry.name.title())
            elif key == "conffiles":
                f.check_conffiles(value)
            elif key == "triggers-pending":
                pending = f.check_trigger_names(value)
            elif key == "triggers-awaited":
                awaited = f.check_awaited(value)
            elif key in ARCHIVE_FIELDS:
                raise f.FieldError(f"{entry.name.title()}: archive fields are not allowed in the status file")
            elif key in REVISION_FIELDS and value and version is not None:
                version = _with_revision(version, value)
            elif key == "source":
                source = value
        except f.FieldError as exc:
            raise DpkgError(entry.line, str(exc)) from None
    end = stanza.end_line
    if name is None:
        raise DpkgError(stanza.line, "a stanza has no Package field")
    if status not in (f.NOT_INSTALLED, f.HALF_INSTALLED) and version is None:
        raise DpkgError(stanza.line, "a package that is not half-installed has no Version")
    same = multiarch == 1
    if same and arch == "":
        raise DpkgError(end, "'Multi-Arch: same' without an architecture")
    if same and arch == "all":
        raise DpkgError(end, "'Multi-Arch: same' with architecture all")
    if config_version and status in (f.INSTALLED, f.NOT_INSTALLED, f.TRIGGERS_PENDING):
        raise DpkgError(end, "Config-Version for a package whose Status does not allow one")
    if awaited and (status <= f.CONFIG_FILES or status >= f.TRIGGERS_PENDING):
        raise DpkgError(end, "triggers are awaited by a package whose Status does not await them")
    if status == f.TRIGGERS_AWAITED and not awaited:
        raise DpkgError(end, "Status triggers-awaited but no Triggers-Awaited")
    if pending and status not in (f.TRIGGERS_PENDING, f.TRIGGERS_AWAITED):
        raise DpkgError(end, "triggers are pending for a package whose Status does not have them")
    if status == f.TRIGGERS_PENDING and not pending:
        raise DpkgError(end, "Status triggers-pending but no Triggers-Pending")
    return Instance(name, arch, same, status, version, source, stanza.line)


def _with_revision(version: f.Version, revision: str) -> f.Version:
    """dpkg's obsolete Revision field (f_revision) appends to what Version said (a Version that comes
    later replaces it, so a Revision before any Version changes nothing)."""
    upstream = f"{version.upstream}-{version.revision}" if version.revision else version.upstream
    return f.Version(version.epoch, upstream, revision)


def _check_set(slots: list[Instance], new: Instance | None, line: int) -> None:
    """dpkg's parse_find_set_slot: at most one instance unless all are ``Multi-Arch: same``."""
    counted = [s for s in slots if s.status != f.NOT_INSTALLED]
    if new is not None and new.status != f.NOT_INSTALLED:
        counted.append(new)
    single = sum(1 for s in counted if not s.multiarch_same)
    multi = len(counted) - single
    if single > 1:
        raise DpkgError(line, "multiple non-coinstallable instances of one package")
    if single and multi:
        raise DpkgError(line, "mixed non-coinstallable and coinstallable instances of one package")


def _slot_by_arch(slots: list[Instance], arch: str) -> int | None:
    """dpkg's pkg_db_get_pkg: the slot of that architecture; a set's only unused slot is reused."""
    if len(slots) == 1 and slots[0].status == f.NOT_INSTALLED:
        return 0
    return next((index for index, slot in enumerate(slots) if slot.arch == arch), None)


def _place(database: Database, new: Instance, update: bool) -> None:
    slots = database.sets.setdefault(new.name, [])
    _check_set(slots, None if update else new, new.line)
    installed = [index for index, slot in enumerate(slots) if slot.status != f.NOT_INSTALLED]
    index: int | None
    if update:
        if len(installed) > 1 and not new.multiarch_same:
            raise DpkgError(new.line, "an update is not co-installable with the installed instances")
        if len(installed) == 1 and not (slots[installed[0]].multiarch_same and new.multiarch_same):
            index = installed[0]  # a cross-grade reuses the one installed instance
        else:
            index = _slot_by_arch(slots, new.arch)
    else:
        index = _slot_by_arch(slots, new.arch)
    if index is None:
        slots.append(new)
    else:
        slots[index] = new


def load_status(database: Database, text: str, default_installed: bool = False) -> None:
    """Apply a status file (or, ``default_installed``, a distroless status.d file) to the database."""
    default = f.INSTALLED if default_installed else f.NOT_INSTALLED
    for stanza in _stanzas(text):
        _place(database, instance_from_stanza(stanza, default), update=False)


def load_update(database: Database, text: str) -> None:
    """Apply one ``updates/NNNN`` journal file (dpkg writes one stanza; it reads any number, even none)."""
    for stanza in _stanzas(text):
        _place(database, instance_from_stanza(stanza), update=True)


def update_files(names: list[str]) -> list[str]:
    """dpkg's update_file_filter: digit-only names of one length (at most 10), in order."""
    chosen = [name for name in names if name.isascii() and name.isdigit()]
    if any(len(name) > MAX_UPDATE_NAME for name in chosen):
        raise DpkgError(0, "the updates directory holds a file whose name is too long")
    if len({len(name) for name in chosen}) > 1:
        raise DpkgError(0, "the updates directory holds files with different length names")
    return sorted(chosen)


def _stanzas(text: str) -> list[Stanza]:
    try:
        return parse_stanzas(text)
    except Deb822Error as exc:
        raise DpkgError(exc.line, exc.message) from None
