"""What mounts /tmp, /var and the others at boot, and with which options: /etc/fstab entries, or for /tmp
systemd's tmp.mount pulled in by local-fs.target.

An image without /etc/fstab has no entries (images often carry none); one that is there but cannot be read
(not a file, binary, not UTF-8, too large) is ``fstab_error``, which every mount check reports as an error
rather than "not a separate mount". Lines are read as libmount reads them: split at newlines only (one
carriage return before it dropped), fields at blanks (space and tab, not the other characters
``str.split`` takes), so the audit and the fix (checks/fstab_fix.py, in awk) see the same fields.
tmp.mount is looked for in the two directories where ``systemctl enable tmp.mount`` (or the vendor
preset) links it, and its ``Options=`` read from the unit file systemd would load (the first of
UNIT_DIRS that has it). A drop-in directory for it is not read: its options are then unknown, not
guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

FSTAB = "/etc/fstab"
TMP_MOUNT_LINKS = (
    "/etc/systemd/system/local-fs.target.wants/tmp.mount",
    "/usr/lib/systemd/system/local-fs.target.wants/tmp.mount",
)
# systemd's unit search path, in order (systemd.unit(5), "System Unit Search Path")
UNIT_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
)


@dataclass(frozen=True)
class FstabEntry:
    mountpoint: str
    fstype: str  # "?" when the line has no third field
    line: int
    options: tuple[str, ...] = ("defaults",)  # the fourth field, split at commas


@dataclass(frozen=True)
class Mounts:
    fstab: tuple[FstabEntry, ...]
    tmp_mount_units: tuple[str, ...]  # the tmp.mount links present
    # Options= of the tmp.mount unit, and the file they come from; Unknown when they cannot be read
    tmp_mount_options: tuple[tuple[str, ...], str] | Unknown | None = None
    fstab_error: str | None = None  # why an /etc/fstab that is there could not be read

    def entry(self, mountpoint: str) -> FstabEntry | None:
        """The first fstab line for ``mountpoint`` (mount -a mounts them in order)."""
        return next((e for e in self.fstab if e.mountpoint == mountpoint), None)

    def effective(self, mountpoint: str) -> FstabEntry | None:
        """The last fstab line for ``mountpoint``: mounted last, it is the one on top, whose options hold."""
        return next((e for e in reversed(self.fstab) if e.mountpoint == mountpoint), None)


def parse_fstab(text: str) -> list[FstabEntry]:
    entries = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        fields = [field for field in _BLANKS.split(line) if field]
        if len(fields) >= 2 and not line.lstrip(" \t").startswith("#"):
            options = tuple(fields[3].split(",")) if len(fields) > 3 else ("defaults",)
            entries.append(
                FstabEntry(_normalised(fields[1]), fields[2] if len(fields) > 2 else "?", number, options)
            )
    return entries


_BLANKS = re.compile(r"[ \t]+")


def _normalised(point: str) -> str:
    """A mount point as systemd reads it: ``/tmp/``, ``//tmp`` and ``/./tmp`` are /tmp; ``none`` (swap)
    stays."""
    if not point.startswith("/"):
        return point
    return "/" + "/".join(part for part in point.split("/") if part not in ("", "."))


def gather_mounts(target: Target) -> Mounts:
    text = target.read_text(FSTAB)
    error = None
    if isinstance(text, Unknown):
        error = text.reason if target.exists(FSTAB) or target.readlink(FSTAB) is not None else None
    entries = [] if isinstance(text, Unknown) else parse_fstab(text)
    units = tuple(path for path in TMP_MOUNT_LINKS if target.exists(path))
    return Mounts(tuple(entries), units, _tmp_mount_options(target) if units else None, error)


def parse_unit_options(text: str) -> tuple[str, ...]:
    """The options of a mount unit's last ``Options=`` in [Mount] (a later assignment wins; an empty one
    resets), with systemd.syntax(7)'s rules: spaces around ``=``, a trailing backslash continuing the line,
    ``#`` and ``;`` comment lines."""
    section, options, pending = "", "", ""
    for raw in text.splitlines():
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line, pending = (pending + raw).strip(), ""
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line
        elif section == "[Mount]" and "=" in line:
            key, value = line.split("=", 1)
            if key.strip() == "Options":
                options = value.strip()
    return tuple(o for o in options.split(",") if o)


def _tmp_mount_options(target: Target) -> tuple[tuple[str, ...], str] | Unknown:
    for folder in UNIT_DIRS:
        for drop_ins in ("tmp.mount.d", "mount.d"):  # the unit's own, and those of every mount unit
            if target.exists(f"{folder}/{drop_ins}"):
                return Unknown(f"{folder}/{drop_ins}: drop-ins for tmp.mount are not read")
    for folder in UNIT_DIRS:
        path = f"{folder}/tmp.mount"
        if target.exists(path):
            text = target.read_text(path)
            if isinstance(text, Unknown):
                return text
            return parse_unit_options(text), path
    return Unknown("tmp.mount is enabled but no unit file for it was found")
