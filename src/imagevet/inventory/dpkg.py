"""Installed packages from the dpkg database: ``/var/lib/dpkg/status``, its ``updates/`` journal, and
distroless ``/var/lib/dpkg/status.d``; the rules are dpkg's own (see dpkgdb and deb822).

A database that dpkg would refuse is refused with the file and line (InventoryError), never read in part;
a status file that is missing while dpkg is installed, or that cannot be read, is an error, never
"0 packages". Files are read as bytes: dpkg does not care about their encoding, so neither do we.
"""

from __future__ import annotations

from imagevet.inventory.dpkgdb import Database, DpkgError, Instance, load_status, load_update, update_files
from imagevet.inventory.errors import InventoryError, printable
from imagevet.model import Package, Unknown
from imagevet.target.base import Target

DPKG_DIR = "/var/lib/dpkg"
DPKG_STATUS = f"{DPKG_DIR}/status"
DPKG_UPDATES = f"{DPKG_DIR}/updates"
DPKG_STATUS_D = f"{DPKG_DIR}/status.d"
DPKG_INFO = f"{DPKG_DIR}/info"
DPKG_BINARIES = ("/usr/bin/dpkg", "/bin/dpkg")
MAX_STATUS_BYTES = 64 * 1024 * 1024


def present(target: Target, path: str) -> bool:
    """Something is at ``path``, even a dangling or looping link (``exists`` follows links)."""
    return target.exists(path) or target.readlink(path) is not None


def _read(target: Target, path: str, max_bytes: int = MAX_STATUS_BYTES) -> str:
    data = target.read_bytes(path, max_bytes=max_bytes)
    if isinstance(data, Unknown):
        raise InventoryError(f"{path}: cannot be read: {printable(data.reason)}")
    return data.decode("latin-1")  # one character per byte: dpkg's own view of the file


def _load(path: str, text: str, loader: object, database: Database) -> None:
    assert callable(loader)
    try:
        loader(database, text)
    except DpkgError as exc:
        raise InventoryError(f"{path}: {exc} (dpkg refuses this database)") from None


def _dpkg_managed(target: Target) -> bool:
    """Evidence that dpkg manages this image: its binary or its per-package file lists."""
    if any(present(target, path) for path in DPKG_BINARIES):
        return True
    names = target.list_dir(DPKG_INFO)
    return not isinstance(names, Unknown) and any(name.endswith(".list") for name in names)


def _status_d(target: Target, database: Database) -> None:
    names = target.list_dir(DPKG_STATUS_D)
    if isinstance(names, Unknown):
        raise InventoryError(f"{DPKG_STATUS_D}: cannot be listed: {printable(names.reason)}")
    for index, name in enumerate(names):
        if "." in name:  # md5sums and other companions
            continue
        path = f"{DPKG_STATUS_D}/{name}"
        text = _read(target, path)
        try:
            load_status(database, text, default_installed=True)
        except DpkgError as exc:
            raise InventoryError(
                f"{DPKG_STATUS_D} file #{index + 1}: {exc} (not a dpkg stanza file)"
            ) from None


def _updates(target: Target, database: Database) -> None:
    if not present(target, DPKG_UPDATES):
        return
    names = target.list_dir(DPKG_UPDATES)
    if isinstance(names, Unknown):
        raise InventoryError(f"{DPKG_UPDATES}: cannot be listed: {printable(names.reason)}")
    try:
        chosen = update_files(names)
    except DpkgError as exc:
        raise InventoryError(f"{DPKG_UPDATES}: {exc} (dpkg refuses this database)") from None
    for name in chosen:
        path = f"{DPKG_UPDATES}/{name}"
        _load(path, _read(target, path), load_update, database)


def package_of(instance: Instance) -> Package:
    """The inventory's Package for a dpkg instance; ``Source: name (version)`` gives the source version."""
    version = _text(instance.version.describe()) if instance.version is not None else ""
    source, source_version = instance.name, version
    parts = instance.source.split()
    if parts:
        source = _text(parts[0])
        if len(parts) > 1 and parts[1].startswith("(") and parts[1].endswith(")"):
            source_version = _text(parts[1][1:-1])
    return Package(instance.name, version, _text(instance.arch), source, source_version)


def _text(value: str) -> str:
    """A value read as Latin-1 back to the text it most likely is (UTF-8), never failing."""
    return value.encode("latin-1").decode("utf-8", "replace")


def read_dpkg(target: Target) -> tuple[list[Package], str] | None:
    """Installed package instances and the database path read; None when dpkg has no database here.

    Raises InventoryError for a database dpkg would refuse, an unreadable one, or a missing status
    file on an image that dpkg manages.
    """
    database = Database()
    if present(target, DPKG_STATUS):
        _load(DPKG_STATUS, _read(target, DPKG_STATUS), load_status, database)
        _updates(target, database)
        where = DPKG_STATUS
    elif present(target, DPKG_STATUS_D):
        _status_d(target, database)
        where = DPKG_STATUS_D
    elif _dpkg_managed(target):
        raise InventoryError(f"{DPKG_STATUS}: missing, but dpkg manages this image (dpkg refuses to run)")
    else:
        return None
    return [package_of(i) for i in database.instances()], where


def gather_dpkg(target: Target) -> dict[tuple[str, str], Package] | Unknown | None:
    """Installed packages keyed by (name, architecture), as dpkg keys them; Unknown with the reason when
    the database cannot be read; None when the image has no dpkg database."""
    try:
        found = read_dpkg(target)
    except InventoryError as exc:
        return Unknown(str(exc))
    if found is None:
        return None
    return {(p.name, p.arch): p for p in found[0]}
