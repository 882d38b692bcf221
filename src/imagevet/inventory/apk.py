"""Installed packages from apk's database (``lib/apk/db/installed``), read as apk-tools 2.12+ reads it
(src/database.c ``apk_db_index_read``, package.c ``apk_pkg_add_info``, io.c ``apk_istream_get_delim``).

Rules reproduced, because each difference is a place to hide a package:

* lines are split on ``\\n`` only; a line shorter than two characters ends a package; any other line
  must be ``X:value`` (apk: "format error");
* a later ``P:``/``V:``/``A:``… line in the same package *replaces* the earlier one, as in apk;
* a package must have a name and a version when it ends, or apk refuses the whole database;
* after the first file-database line (``F:``, ``R:``, ``M:``, ``a:``, ``Z:``…), an unknown field or a
  malformed one is fatal for apk ("apk-tools is too old"); ``F:`` needs a package name, ``R:`` and
  ``M:`` a directory, ``a:`` and ``Z:`` a file;
* packages are identified by their checksum (``C:``): apk keeps the first of two entries with one
  checksum. Identical entries are merged; two *different* packages sharing a checksum are refused,
  since apk would silently drop the second while its files are on disk.

Stricter than apk, and said so: a file that does not end with a newline is refused as truncated (apk
never writes one; apk itself would silently drop the last package).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imagevet.model import Package

INDEX_FIELDS = frozenset("PVTULADCSIpiomtck")
FDB_FIELDS = frozenset("FMRZrqasf")
BROKEN_FLAGS = frozenset("fsxS")


class ApkError(ValueError):
    """apk would refuse this database (or it is truncated); ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass
class _Entry:
    """One package stanza of apk's installed database while it is read, with its line."""

    line: int
    values: dict[str, str] = field(default_factory=dict)
    fdb: bool = False  # a file-database line was seen (apk's ipkg exists)
    directory: bool = False


def _acl_ok(value: str) -> bool:
    """``uid:gid:mode[:checksum]`` as apk pulls it: digits may be missing, the colons may not."""
    parts = value.split(":", 3)
    return len(parts) >= 3 and (len(parts) == 3 or _checksum_ok(parts[3]))


_HEX = frozenset("0123456789abcdefABCDEF")
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
# (encoding, type) -> characters apk pulls: SHA-1 is 20 bytes, SHA-256 32 bytes.
_CHECKSUM_CHARS = {
    ("X", "1"): (_HEX, 40),
    ("X", "2"): (_HEX, 64),
    ("Q", "1"): (_BASE64, 28),
    ("Q", "2"): (_BASE64, 44),
}


def _checksum_ok(value: str) -> bool:
    """apk_blob_pull_csum: ``Q1``/``Q2`` base64, ``X1``/``X2`` hex, or bare hex (MD5, 16 bytes)."""
    if len(value) < 2:
        return False
    if value[0] in _HEX:
        alphabet, length, digits = _HEX, 32, value
    elif (value[0], value[1]) in _CHECKSUM_CHARS:
        (alphabet, length), digits = _CHECKSUM_CHARS[(value[0], value[1])], value[2:]
    else:
        return False
    return len(digits) >= length and all(ch in alphabet for ch in digits[:length])


def _line(entry: _Entry, number: int, key: str, value: str, file_seen: bool) -> bool:
    """Apply one ``X:value`` line; returns whether a file (``R:``) is now current."""
    if key in INDEX_FIELDS:
        if key == "C" and entry.fdb and not _checksum_ok(value):
            raise ApkError(number, "a malformed package checksum after the file list")
        entry.values[key] = value  # the later line wins, as in apk
        return file_seen
    if key not in FDB_FIELDS:
        if entry.fdb:
            raise ApkError(number, "an unknown field after the file list (apk: 'apk-tools is too old')")
        return file_seen  # before the file list apk ignores fields it does not know
    entry.fdb = True
    if key == "F":
        if "P" not in entry.values:
            raise ApkError(number, "a directory (F:) before the package name")
        entry.directory = True
    elif key == "R":
        if not entry.directory:
            raise ApkError(number, "a file (R:) before any directory (F:)")
        return True
    elif key in ("M", "a"):
        if (key == "a" and not file_seen) or not entry.directory:
            raise ApkError(number, "permissions before the file or directory they belong to")
        if not _acl_ok(value):
            raise ApkError(number, "malformed permissions (uid:gid:mode)")
    elif key == "Z":
        if not file_seen:
            raise ApkError(number, "a checksum (Z:) before any file (R:)")
        if not _checksum_ok(value):
            raise ApkError(number, "malformed file checksum")
    elif key == "f" and any(ch not in BROKEN_FLAGS for ch in value):
        raise ApkError(number, "an unknown flag in f: (apk: 'apk-tools is too old')")
    return file_seen


def parse_apk_installed(text: str) -> list[Package]:
    """Every installed package, in database order; ApkError where apk refuses the database."""
    if text and not text.endswith("\n"):
        lines = text.count("\n") + 1
        raise ApkError(lines, "the database does not end with a newline (truncated?)")
    packages: list[Package] = []
    by_checksum: dict[str, tuple[str, str, int]] = {}
    entry: _Entry | None = None
    file_seen = False  # apk's `file` pointer is not reset between packages
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) < 2:
            if entry is not None:
                _finish(entry, packages, by_checksum)
                entry = None
            continue
        if line[1] != ":":
            raise ApkError(number, "a line that is not 'X:value' (apk: format error)")
        if entry is None:
            entry = _Entry(number)
        file_seen = _line(entry, number, line[0], line[2:], file_seen)
    return packages


def _finish(entry: _Entry, packages: list[Package], seen: dict[str, tuple[str, str, int]]) -> None:
    values = entry.values
    name, version = values.get("P"), values.get("V")
    if name is None or version is None:
        what = "name (P:)" if name is None else "version (V:)"
        raise ApkError(entry.line, f"a package without a {what}: apk refuses the database")
    checksum = values.get("C", "")
    earlier = seen.get(checksum)
    if earlier is not None:
        if earlier[:2] == (name, version):
            return  # the same package twice: apk merges them
        raise ApkError(
            entry.line,
            f"the package starting here has the checksum of the one at line {earlier[2]}: "
            "apk would keep only the first, hiding this one",
        )
    seen[checksum] = (name, version, entry.line)
    packages.append(
        Package(
            name=name,
            version=version,
            arch=values.get("A", ""),
            source=values.get("o") or name,  # apk's origin: the source package
            source_version=version,
            type="apk",
            license=values.get("L", ""),
        )
    )
