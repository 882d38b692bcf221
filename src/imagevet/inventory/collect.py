"""Find and read every package database in a target: dpkg, rpm (SQLite, Berkeley DB, NDB) and apk."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from imagevet.inventory.dpkg import present, read_dpkg
from imagevet.inventory.errors import InventoryError, printable
from imagevet.model import OsRelease, Package, Unknown
from imagevet.target.base import Target

if TYPE_CHECKING:  # the rpm and apk readers are imported when the image has their database
    from imagevet.inventory.rpmheader import RpmHeader

__all__ = ["Inventory", "InventoryError", "collect_inventory"]

RPM_DATABASES = (
    ("/usr/lib/sysimage/rpm/rpmdb.sqlite", "sqlite"),
    ("/var/lib/rpm/rpmdb.sqlite", "sqlite"),
    ("/usr/lib/sysimage/rpm/Packages.db", "ndb"),
    ("/var/lib/rpm/Packages.db", "ndb"),
    ("/var/lib/rpm/Packages", "bdb"),
)
APK_DATABASES = ("/lib/apk/db/installed", "/usr/lib/apk/db/installed")
APK_BINARIES = ("/sbin/apk", "/usr/bin/apk")
RPM_BINARIES = ("/usr/bin/rpm", "/bin/rpm")
MAX_DB_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Inventory:
    """Every installed package, and the package databases they were read from."""

    packages: tuple[Package, ...]
    databases: tuple[str, ...]  # image paths of the databases read


def _rpm_package(header: RpmHeader) -> Package:
    evr = f"{header.version}-{header.release}" if header.release else header.version
    if header.epoch is not None:
        evr = f"{header.epoch}:{evr}"
    if header.source_rpm and header.source_rpm != "(none)":
        from imagevet.inventory.rpmheader import split_source_rpm

        source, source_version = split_source_rpm(header.source_rpm)
    else:  # gpg-pubkey and other packages without a source rpm
        source, source_version = header.name, evr
    return Package(
        name=header.name,
        version=evr,
        arch=header.arch,
        source=source,
        source_version=source_version,
        type="rpm",
        epoch=header.epoch,
        release=header.release,
        license=header.license,
    )


def _rpm_headers(target: Target, path: str, backend: str) -> list[RpmHeader]:
    # Imported here: the rpmdb readers bring sqlite3 and tempfile, which a Debian image never needs.
    from imagevet.inventory.rpmdb import read_bdb, read_ndb, read_sqlite

    data = target.read_bytes(path, max_bytes=MAX_DB_BYTES)
    if isinstance(data, Unknown):
        raise InventoryError(f"{path}: cannot be read: {printable(data.reason)}")
    if backend == "bdb":
        return list(read_bdb(data))
    if backend == "ndb":
        return list(read_ndb(data))
    wal_path = path + "-wal"
    wal = None
    if present(target, wal_path):
        found = target.read_bytes(wal_path, max_bytes=MAX_DB_BYTES)
        if isinstance(found, Unknown):
            raise InventoryError(f"{wal_path}: cannot be read: {printable(found.reason)}")
        wal = found
    return read_sqlite(data, wal)


def read_rpm(target: Target, os: OsRelease | None = None) -> tuple[list[Package], str] | None:
    """Packages from the image's rpmdb (rpm uses exactly one) and its path; None when there is none.

    Two different databases (after following links) are refused: which one rpm reads depends on its
    configuration, and reading the wrong one would hide every package of the other. A missing database
    on an rpm-family image that has rpm installed is an error too, never "0 packages".
    """
    found: dict[str, tuple[str, str]] = {}
    for path, backend in RPM_DATABASES:
        if present(target, path):
            canonical = target.canonical(path)
            found.setdefault(canonical if isinstance(canonical, str) else path, (path, backend))
    if len(found) > 1:
        paths = " and ".join(path for path, _ in found.values())
        raise InventoryError(f"{paths}: two rpm databases; rpm reads only one (refusing to guess which)")
    if not found:
        family = os.family if os is not None else ""
        if family in ("rhel", "suse") and any(present(target, b) for b in RPM_BINARIES):
            raise InventoryError(
                f"{RPM_DATABASES[0][0]}: no rpm database, but rpm is installed in this image"
            )
        return None
    ((path, backend),) = found.values()
    from imagevet.inventory.rpmdb import RpmdbError

    try:
        headers = _rpm_headers(target, path, backend)
    except RpmdbError as exc:
        raise InventoryError(f"{path}: {exc}") from None
    return [_rpm_package(h) for h in headers], path


def read_apk(target: Target) -> tuple[list[Package], str] | None:
    """Packages from the apk database and its path; None when the image has none. A database apk would
    refuse, or one that cannot be read, raises InventoryError."""
    for path in APK_DATABASES:
        if not present(target, path):
            continue
        data = target.read_bytes(path, max_bytes=64 * 1024 * 1024)
        if isinstance(data, Unknown):
            raise InventoryError(f"{path}: cannot be read: {printable(data.reason)}")
        from imagevet.inventory.apk import ApkError, parse_apk_installed

        try:
            return parse_apk_installed(data.decode("utf-8", "replace")), path
        except ApkError as exc:
            raise InventoryError(f"{path}: {exc}") from None
    if any(present(target, binary) for binary in APK_BINARIES):
        raise InventoryError(f"{APK_DATABASES[0]}: missing, but apk is installed in this image")
    return None


def collect_inventory(target: Target, os: OsRelease | None, *, purls: bool = True) -> Inventory:
    """Every installed package, each with its purl unless ``purls`` is off (the audit's checks never read
    one, and building them is a fifth of reading the package database); raises InventoryError for an
    unreadable database."""
    packages: list[Package] = []
    databases: list[str] = []
    for reader in (read_dpkg, lambda t: read_rpm(t, os), read_apk):
        found = reader(target)
        if found is not None:
            packages += found[0]
            databases.append(found[1])
    packages.sort(key=lambda p: (p.type, p.name, p.arch, p.version))
    if purls:
        from imagevet.inventory.purl import package_url

        packages = [replace(p, purl=package_url(p, os)) for p in packages]
    return Inventory(tuple(packages), tuple(databases))
