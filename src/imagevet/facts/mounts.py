"""What mounts /tmp at boot: an /etc/fstab entry, or systemd's tmp.mount pulled in by local-fs.target.

An fstab that cannot be read has no entries here (images often carry none); tmp.mount is looked for in
the two directories where ``systemctl enable tmp.mount`` (or the vendor preset) links it.
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


@dataclass(frozen=True)
class FstabEntry:
    mountpoint: str
    fstype: str  # "?" when the line has no third field
    line: int


@dataclass(frozen=True)
class Mounts:
    fstab: tuple[FstabEntry, ...]
    tmp_mount_units: tuple[str, ...]  # the tmp.mount links present

    def entry(self, mountpoint: str) -> FstabEntry | None:
        """The first fstab line for ``mountpoint`` (mount -a mounts them in order)."""
        return next((e for e in self.fstab if e.mountpoint == mountpoint), None)


def parse_fstab(text: str) -> list[FstabEntry]:
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if len(fields) >= 2 and not line.lstrip().startswith("#"):
            entries.append(FstabEntry(fields[1], fields[2] if len(fields) > 2 else "?", number))
    return entries


def gather_mounts(target: Target) -> Mounts:
    text = target.read_text(FSTAB)
    entries = [] if isinstance(text, Unknown) else parse_fstab(text)
    units = tuple(path for path in TMP_MOUNT_LINKS if target.exists(path))
    return Mounts(tuple(entries), units)
