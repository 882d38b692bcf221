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
# The tmpfs systemd mounts at /dev/shm before it reads /etc/fstab: src/shared/mount-setup.c, mount_table[]
# ("tmpfs", "/dev/shm", mode=01777, MS_NOSUID|MS_NODEV|MS_STRICTATIME), the same since systemd 9 (2010)
# (https://github.com/systemd/systemd/blob/main/src/shared/mount-setup.c, checked 2026-12-07); an fstab
# line for it is applied by systemd-remount-fs.service over them, remounting with that line's options
# (https://man7.org/linux/man-pages/man8/systemd-remount-fs.8.html, checked 2026-12-07).
SYSTEMD_DEV_SHM_OPTIONS = ("nosuid", "nodev", "strictatime", "mode=1777")
SYSTEMD_PROGRAMS = ("/usr/lib/systemd/systemd", "/lib/systemd/systemd")
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
    # systemd's own /dev/shm mount (its options, and the systemd program that makes it); Unknown where a
    # dev-shm.mount of the image's own would change it, None where the image has no systemd
    dev_shm_options: tuple[tuple[str, ...], str] | Unknown | None = None

    def entry(self, mountpoint: str) -> FstabEntry | None:
        """The first fstab line for ``mountpoint`` (mount -a mounts them in order)."""
        return next((e for e in self.fstab if e.mountpoint == mountpoint), None)

    def effective(self, mountpoint: str) -> FstabEntry | None:
        """The fstab line whose options hold for ``mountpoint``: the first, as systemd-fstab-generator keeps
        it ("Duplicate entry in /etc/fstab", the later ones ignored), and as ``mount -o remount`` (what
        systemd-remount-fs runs for /dev/shm) reads fstab."""
        return self.entry(mountpoint)

    def without_fstab(self, mountpoint: str) -> tuple[tuple[str, ...], str] | Unknown | None:
        """What mounts ``mountpoint`` where no fstab line does, and with which options (and the file that
        says so): tmp.mount for /tmp, systemd itself for /dev/shm; None where nothing does."""
        if mountpoint == "/tmp":
            return self.tmp_mount_options
        if mountpoint == "/dev/shm":
            return self.dev_shm_options
        return None


def parse_fstab(text: str) -> list[FstabEntry]:
    entries = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        fields = [field for field in _BLANKS.split(line) if field]
        if len(fields) >= 2 and not line.lstrip(" \t").startswith("#"):
            options = split_options(fields[3]) if len(fields) > 3 else ("defaults",)
            entries.append(
                FstabEntry(_normalised(fields[1]), fields[2] if len(fields) > 2 else "?", number, options)
            )
    return entries


_BLANKS = re.compile(r"[ \t]+")
_OPTION = re.compile(r'(?:[^,"]|"[^"]*")+')


def split_options(field: str) -> tuple[str, ...]:
    """An option list split at the commas libmount splits it at: not those inside double quotes
    (``context="system_u:object_r:tmp_t:s0:c0,c1"`` is one option)."""
    return tuple(_OPTION.findall(field))


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
    tmp_options = _tmp_mount_options(target) if units else None
    return Mounts(tuple(entries), units, tmp_options, error, _dev_shm_options(target))


def _dev_shm_options(target: Target) -> tuple[tuple[str, ...], str] | Unknown | None:
    program = next((path for path in SYSTEMD_PROGRAMS if target.exists(path)), None)
    if program is None:
        return None
    from imagevet.facts.units import BOOT_UNIT_DIRS

    for folder in BOOT_UNIT_DIRS:
        names = target.list_dir(folder)
        if isinstance(names, Unknown):
            if target.exists(folder) or target.readlink(folder) is not None:  # there, and unread
                return Unknown(f"{folder}: {names.reason}")
            continue
        for name in ("dev-shm.mount", "dev-shm.mount.d", "mount.d"):
            if name in names:
                return Unknown(f"{folder}/{name}: a unit of the image's own for /dev/shm is not read")
    return SYSTEMD_DEV_SHM_OPTIONS, program


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


# What an option implies of nodev, nosuid and noexec, read left to right as libmount reads the list
# (mount(8), FILESYSTEM-INDEPENDENT MOUNT OPTIONS: user and users imply noexec, nosuid and nodev; owner and
# group nosuid and nodev, "unless overridden by subsequent options"). ``defaults`` changes none of them:
# libmount's option map gives it no flags (a remount with "noexec,defaults" keeps noexec; the red-team of
# session 29 read the kernel's flags after both).
IMPLIES = {
    "user": ("noexec", "nosuid", "nodev"),
    "users": ("noexec", "nosuid", "nodev"),
    "owner": ("nosuid", "nodev"),
    "group": ("nosuid", "nodev"),
}


def has_option(options: tuple[str, ...], option: str) -> bool:
    """Whether ``option`` (nodev, nosuid, noexec) holds after libmount reads the list left to right: the
    option itself or one that implies it sets it, its opposite (dev, suid, exec) after it undoes it."""
    holds = False
    for item in options:
        if item == option or option in IMPLIES.get(item, ()):
            holds = True
        elif item == option.removeprefix("no"):
            holds = False
    return holds
