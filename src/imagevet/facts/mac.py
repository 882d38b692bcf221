"""Mandatory access control: SELinux mode and AppArmor state, including kernel command-line overrides."""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagevet.model import Evidence, Package, Unknown
from imagevet.target.base import Target

SELINUX_CONFIG = "/etc/selinux/config"
SELINUX_ENFORCE = "/sys/fs/selinux/enforce"
APPARMOR_DIR = "/etc/apparmor.d"
APPARMOR_PARSERS = ("/sbin/apparmor_parser", "/usr/sbin/apparmor_parser", "/usr/bin/apparmor_parser")
APPARMOR_ENABLED = "/sys/module/apparmor/parameters/enabled"
GRUB_DEFAULT = "/etc/default/grub"
GRUB_DEFAULT_D = "/etc/default/grub.d"
BOOT_ENTRIES = "/boot/loader/entries"  # Boot Loader Specification entries (RHEL 9 and Fedora boot from these)
MAX_BOOT_ENTRIES = 1000  # an image has a few; more is refused rather than half read
# Entries of /etc/apparmor.d that hold shared fragments or state, not profiles.
APPARMOR_NON_PROFILES = frozenset(
    {"abstractions", "tunables", "local", "disable", "force-complain", "cache", "abi", "libvirt"}
)
_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


@dataclass(frozen=True)
class BootEntry:
    """One Boot Loader Specification entry and the kernel arguments of its ``options`` lines."""

    path: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class KernelCmdline:
    """Kernel arguments the bootloader configuration adds, with the file that set them, and the boot
    entries (BLS), each of which boots a kernel with its own arguments."""

    args: tuple[str, ...]
    sources: tuple[str, ...]
    running: tuple[str, ...] | None  # /proc/cmdline on a live host
    entries: tuple[BootEntry, ...] = ()
    entries_problem: str | None = None  # the boot entries could not all be read

    def value(self, name: str) -> str | None:
        """The last value given to ``name=`` (the kernel takes the last one)."""
        found = None
        for arg in (*self.args, *(self.running or ())):
            key, sep, value = arg.partition("=")
            if key == name and sep:
                found = value
        return found


@dataclass(frozen=True)
class Selinux:
    """SELinux's configured mode, the evidence for it, and the running host's state when there is one."""

    mode: str | None  # enforcing | permissive | disabled | None when not configured
    evidence: Evidence | None
    runtime_enforcing: bool | None
    policy_type: str | None = None  # SELINUXTYPE: targeted, mls, minimum ... None when not set
    type_evidence: Evidence | None = None


@dataclass(frozen=True)
class AppArmor:
    """Whether AppArmor is installed, its profiles, and the running host's state when there is one."""

    installed: bool
    profiles: tuple[str, ...]
    runtime_enabled: bool | None


@dataclass(frozen=True)
class MacFacts:
    """The mandatory access control facts: SELinux, AppArmor and the kernel command line."""

    selinux: Selinux
    apparmor: AppArmor
    cmdline: KernelCmdline

    def apparmor_disabled_by(self) -> str | None:
        """Why the kernel command line turns AppArmor off, or None."""
        if self.cmdline.value("apparmor") == "0":
            return "apparmor=0 on the kernel command line"
        security = self.cmdline.value("security")
        if security and security != "apparmor":
            return f"security={security} on the kernel command line selects another LSM"
        lsm = self.cmdline.value("lsm")
        if lsm is not None and "apparmor" not in lsm.split(","):
            return f"lsm={lsm} on the kernel command line leaves AppArmor out"
        return None

    def selinux_disabled_by(self) -> str | None:
        if self.cmdline.value("selinux") == "0":
            return "selinux=0 on the kernel command line"
        if self.cmdline.value("enforcing") == "0":
            return "enforcing=0 on the kernel command line (permissive)"
        for entry in self.cmdline.entries:
            for name, effect in (("selinux", ""), ("enforcing", " (permissive)")):
                if _last_value(entry.args, name) == "0":
                    return f"{name}=0 in the boot entry {entry.path}{effect}"
        return None


def _last_value(args: tuple[str, ...], name: str) -> str | None:
    found = None
    for arg in args:
        key, sep, value = arg.partition("=")
        if key == name and sep:
            found = value
    return found


def parse_shell_assignments(text: str, env: dict[str, str]) -> None:
    """Apply simple ``VAR="..."`` assignments (with ``$VAR`` expansion) as a shell sourcing the file would."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGN.match(stripped)
        if not match:
            continue
        name, raw = match.groups()
        raw = raw.strip()
        if raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
            value = raw[1:-1]
        else:
            if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
                raw = raw[1:-1]
            else:
                raw = raw.split("#", 1)[0].strip()
            value = _VAR.sub(lambda m: env.get(m.group(1), ""), raw)
        env[name] = value


def gather_cmdline(target: Target) -> KernelCmdline:
    env: dict[str, str] = {}
    sources: list[str] = []
    paths = [GRUB_DEFAULT]
    names = target.list_dir(GRUB_DEFAULT_D)
    if not isinstance(names, Unknown):
        paths += [f"{GRUB_DEFAULT_D}/{n}" for n in names if n.endswith(".cfg")]
    for path in paths:
        text = target.read_text(path)
        if isinstance(text, Unknown):
            continue
        sources.append(path)
        parse_shell_assignments(text, env)
    args = f"{env.get('GRUB_CMDLINE_LINUX', '')} {env.get('GRUB_CMDLINE_LINUX_DEFAULT', '')}".split()
    running = None
    if target.is_live_host:
        text = target.read_text("/proc/cmdline")
        if not isinstance(text, Unknown):
            running = tuple(text.split())
    entries, problem = gather_boot_entries(target)
    return KernelCmdline(tuple(args), tuple(sources), running, entries, problem)


def gather_boot_entries(target: Target) -> tuple[tuple[BootEntry, ...], str | None]:
    """The ``options`` of each /boot/loader/entries/*.conf; a problem instead of a partial list when
    one cannot be read or there are absurdly many. ``$kernelopts`` (RHEL 8's grubenv) is not expanded."""
    names = target.list_dir(BOOT_ENTRIES)
    if isinstance(names, Unknown):
        return (), None  # no boot entries: the image boots from grub.cfg or has no boot loader
    confs = sorted(n for n in names if n.endswith(".conf"))
    if len(confs) > MAX_BOOT_ENTRIES:
        return (), f"{BOOT_ENTRIES}: {len(confs)} boot entries (more than {MAX_BOOT_ENTRIES}), refused"
    entries = []
    for name in confs:
        path = f"{BOOT_ENTRIES}/{name}"
        if not target.is_file(path):
            continue
        text = target.read_text(path)
        if isinstance(text, Unknown):
            return (), f"{path}: {text.reason}"
        args: list[str] = []
        for line in text.splitlines():
            words = line.split(None, 1)  # "key value", separated by spaces or tabs
            if len(words) == 2 and words[0] == "options":
                args += words[1].split()
        entries.append(BootEntry(path, tuple(args)))
    return tuple(entries), None


def parse_selinux_config(text: str, path: str, name: str = "SELINUX") -> tuple[str | None, Evidence | None]:
    """The last ``NAME=`` value of selinux/config (SELINUX, the mode; SELINUXTYPE, the policy), as libselinux
    reads it: lower-cased, quotes dropped."""
    value, evidence = None, None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(f"{name}="):
            value = stripped.partition("=")[2].strip().strip("\"'").lower()
            evidence = Evidence(f"{name}={value}", path, number)
    return value, evidence


def gather_mac(target: Target, packages: dict[str, Package] | Unknown | None) -> MacFacts:
    mode, evidence, policy_type, type_evidence = None, None, None, None
    text = target.read_text(SELINUX_CONFIG)
    if not isinstance(text, Unknown):
        mode, evidence = parse_selinux_config(text, SELINUX_CONFIG)
        policy_type, type_evidence = parse_selinux_config(text, SELINUX_CONFIG, "SELINUXTYPE")
    runtime_enforcing = None
    if target.is_live_host:
        enforce = target.read_text(SELINUX_ENFORCE)
        if not isinstance(enforce, Unknown):
            runtime_enforcing = enforce.strip() == "1"

    installed = any(target.exists(p) for p in APPARMOR_PARSERS) or (
        isinstance(packages, dict) and "apparmor" in packages
    )
    profiles: list[str] = []
    names = target.list_dir(APPARMOR_DIR)
    if not isinstance(names, Unknown):
        profiles = [
            n
            for n in names
            if n not in APPARMOR_NON_PROFILES
            and not n.startswith(".")
            and target.is_file(f"{APPARMOR_DIR}/{n}")
        ]
    runtime_enabled = None
    if target.is_live_host:
        enabled = target.read_text(APPARMOR_ENABLED)
        if not isinstance(enabled, Unknown):
            runtime_enabled = enabled.strip().upper().startswith("Y")
    return MacFacts(
        Selinux(mode, evidence, runtime_enforcing, policy_type, type_evidence),
        AppArmor(installed, tuple(profiles), runtime_enabled),
        gather_cmdline(target),
    )
