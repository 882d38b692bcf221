"""What mounts /tmp, /var and the others at boot, and with which options: /etc/fstab entries, or for /tmp
systemd's tmp.mount pulled in by local-fs.target.

An fstab that cannot be read has no entries here (images often carry none); tmp.mount is looked for in
the two directories where ``systemctl enable tmp.mount`` (or the vendor preset) links it, and its
``Options=`` read from the unit file systemd would load (the first of UNIT_DIRS that has it). A drop-in
directory for it is not read: its options are then unknown, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.model import Unknown
from imagevet.target.base import Target

FSTAB = "/etc/fstab"
TMP_MOUNT_LINKS = (
    "/etc/systemd/system/local-fs.target.wants/tmp.mount",
    "/usr/lib/systemd/system/local-fs.target.wants/tmp.mount",
)
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")


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

    def entry(self, mountpoint: str) -> FstabEntry | None:
        """The first fstab line for ``mountpoint`` (mount -a mounts them in order)."""
        return next((e for e in self.fstab if e.mountpoint == mountpoint), None)


def parse_fstab(text: str) -> list[FstabEntry]:
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if len(fields) >= 2 and not line.lstrip().startswith("#"):
            options = tuple(fields[3].split(",")) if len(fields) > 3 else ("defaults",)
            entries.append(FstabEntry(fields[1], fields[2] if len(fields) > 2 else "?", number, options))
    return entries


def gather_mounts(target: Target) -> Mounts:
    text = target.read_text(FSTAB)
    entries = [] if isinstance(text, Unknown) else parse_fstab(text)
    units = tuple(path for path in TMP_MOUNT_LINKS if target.exists(path))
    return Mounts(tuple(entries), units, _tmp_mount_options(target) if units else None)


def parse_unit_options(text: str) -> tuple[str, ...]:
    """The options of a mount unit's last ``Options=`` line in [Mount] (a later assignment wins)."""
    section, options = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line
        elif section == "[Mount]" and line.startswith("Options="):
            options = line.removeprefix("Options=").strip()
    return tuple(o for o in options.split(",") if o)


def _tmp_mount_options(target: Target) -> tuple[tuple[str, ...], str] | Unknown:
    for folder in UNIT_DIRS:
        if target.exists(f"{folder}/tmp.mount.d"):
            return Unknown(f"{folder}/tmp.mount.d: drop-ins for tmp.mount are not read")
    for folder in UNIT_DIRS:
        path = f"{folder}/tmp.mount"
        if target.exists(path):
            text = target.read_text(path)
            if isinstance(text, Unknown):
                return text
            return parse_unit_options(text), path
    return Unknown("tmp.mount is enabled but no unit file for it was found")
