"""All facts about one target, each gathered lazily and at most once per run.

Checks ask for the facts they need; a run limited with ``--checks`` therefore never pays for the others
(hashing passwords with yescrypt, for instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from imagevet.facts.accounts import Accounts, gather_accounts
from imagevet.facts.cloudinit import CloudConfig, CloudInit, gather_cloud_config, gather_cloudinit
from imagevet.facts.files import SystemFiles, gather_system_files
from imagevet.facts.limits import Limit, gather_limits
from imagevet.facts.logindefs import LoginDefs, gather_login_defs
from imagevet.facts.mac import MacFacts, gather_mac
from imagevet.facts.modprobe import InstallLine, gather_modprobe
from imagevet.facts.mounts import Mounts, gather_mounts
from imagevet.facts.os_release import gather_os_release
from imagevet.facts.pam import PamFacts, gather_pam
from imagevet.facts.pending import (
    APT_COMMAND,
    DNF_COMMAND,
    PendingUpdate,
    parse_apt_simulation,
    parse_dnf_updateinfo,
)
from imagevet.facts.sshd import SshdConfig, gather_sshd
from imagevet.facts.sudoers import Sudoers, gather_sudoers
from imagevet.facts.support import SupportFacts, gather_support
from imagevet.facts.sysctl import SysctlConfig, gather_sysctl, read_running
from imagevet.facts.systemd_conf import (
    COREDUMP_CONF,
    Journald,
    SystemdSetting,
    gather_journald,
    gather_systemd_conf,
)
from imagevet.facts.timesync import ConfigLine, gather_time_config
from imagevet.facts.updates import UpdatesFacts, gather_updates
from imagevet.inventory.collect import Inventory, InventoryError, collect_inventory
from imagevet.model import ImageConfig, OsRelease, Package, Unknown
from imagevet.target.base import Target
from imagevet.vuln.coverage import FIX, Advisories, Verdict
from imagevet.vuln.ecosystem import Ecosystems, ecosystems_for
from imagevet.vuln.matcher import Finding, match_packages


@dataclass(frozen=True)
class FactNeeds:
    """What the checks want looked at beyond fixed files: the sysctl keys whose running value is read on a
    live host, and the paths whose presence they ask about (agents installed outside the package
    database). Derived from the checks' data (checks/needs.py), never kept by hand here."""

    sysctl_keys: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vulnerabilities:
    ecosystems: Ecosystems
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]  # advisories that could not be evaluated (bad versions)
    coverage: Verdict  # what the database holds for the image's ecosystem, with its warnings


class Facts:
    def __init__(
        self, target: Target, advisories: Advisories | None = None, needs: FactNeeds | None = None
    ) -> None:
        """``advisories``: the advisory database with its coverage and policy; None when none was asked for
        (then the facts that need it are Unknown, never empty). ``needs``: what the checks want looked at;
        None asks the built-in checks."""
        self.target = target
        self.advisories = advisories
        self._needs = needs

    @cached_property
    def needs(self) -> FactNeeds:
        if self._needs is not None:
            return self._needs
        from imagevet.checks.needs import builtin_needs  # lazily: the checks' data says what matters

        return builtin_needs()

    @cached_property
    def os_release(self) -> OsRelease | Unknown:
        return gather_os_release(self.target)

    @property
    def family(self) -> str:
        return self.os_release.family if isinstance(self.os_release, OsRelease) else "unknown"

    @cached_property
    def inventory(self) -> Inventory | Unknown:
        os = self.os_release if isinstance(self.os_release, OsRelease) else None
        try:
            return collect_inventory(self.target, os)
        except InventoryError as exc:
            return Unknown(str(exc))

    @cached_property
    def packages(self) -> dict[str, Package] | Unknown | None:
        """Installed packages by name; None when the image has no package database at all."""
        inventory = self.inventory
        if isinstance(inventory, Unknown):
            return inventory
        if not inventory.databases:
            return None
        return {p.name: p for p in inventory.packages}

    @cached_property
    def sshd(self) -> SshdConfig | Unknown | None:
        return gather_sshd(self.target)

    @cached_property
    def sysctl(self) -> SysctlConfig:
        config = gather_sysctl(self.target)
        if self.target.is_live_host:
            config.running = read_running(self.target, list(self.needs.sysctl_keys))
        return config

    @cached_property
    def login_defs(self) -> LoginDefs | Unknown:
        return gather_login_defs(self.target)

    @cached_property
    def sudoers(self) -> Sudoers | Unknown | None:
        """sudo's Defaults lines; None when sudo is not installed."""
        return gather_sudoers(self.target)

    @cached_property
    def mounts(self) -> Mounts:
        return gather_mounts(self.target)

    @cached_property
    def modprobe(self) -> tuple[InstallLine, ...]:
        return gather_modprobe(self.target)

    @cached_property
    def limits(self) -> tuple[Limit, ...]:
        return gather_limits(self.target)

    @cached_property
    def coredump_conf(self) -> tuple[SystemdSetting, ...]:
        return gather_systemd_conf(self.target, COREDUMP_CONF)

    @cached_property
    def journald(self) -> Journald:
        return gather_journald(self.target)

    @cached_property
    def system_files(self) -> SystemFiles:
        """Modes and owners of passwd, group, shadow, gshadow, sshd_config and the SSH host keys."""
        return gather_system_files(self.target)

    @cached_property
    def pam(self) -> PamFacts:
        return gather_pam(self.target)

    @cached_property
    def cloud_config(self) -> CloudConfig:
        return gather_cloud_config(self.target)

    @cached_property
    def time_config(self) -> tuple[ConfigLine, ...]:
        return gather_time_config(self.target)

    @cached_property
    def present_paths(self) -> frozenset[str]:
        """Which of the paths the checks ask about (``needs.paths``) exist in the image."""
        return frozenset(path for path in self.needs.paths if self.target.exists(path))

    @cached_property
    def image(self) -> ImageConfig | None:
        """A container image's configuration (its User, entrypoint ...); None for anything else."""
        return self.target.info.image

    @cached_property
    def accounts(self) -> Accounts | Unknown:
        return gather_accounts(self.target)

    @cached_property
    def mac(self) -> MacFacts:
        return gather_mac(self.target, self.packages)

    @cached_property
    def updates(self) -> UpdatesFacts | Unknown:
        return gather_updates(self.target, self.family, self.packages)

    @cached_property
    def cloud_init(self) -> CloudInit | Unknown | None:
        return gather_cloudinit(self.target, self.packages)

    @cached_property
    def support(self) -> SupportFacts:
        """Paid extended support the image has attached (Ubuntu Pro ESM, RHEL EUS, SUSE LTSS)."""
        return gather_support(self.target)

    @cached_property
    def vulnerabilities(self) -> Vulnerabilities | Unknown:
        """Known vulnerabilities of the installed packages, or why they cannot be known: no OS release, no
        OSV ecosystem for it, no database, a database without the image's ecosystem or too old for the
        policy, an unreadable package database. Never an empty list for any of those."""
        os = self.os_release
        if isinstance(os, Unknown):
            return Unknown(f"the OS release is unknown: {os.reason}")
        ecosystems = ecosystems_for(os)
        if ecosystems is None:
            return Unknown(f"no OSV ecosystem is known for {os.pretty_name or os.id}")
        if self.advisories is None:
            return Unknown(
                f"needs advisories for {ecosystems.names[0]}, but no advisory database was given; {FIX}"
            )
        verdict = self.advisories.verdict(ecosystems.names)
        if not verdict.covered or self.advisories.lookup is None:
            return Unknown(verdict.problem)
        inventory = self.inventory
        if isinstance(inventory, Unknown):
            return inventory
        if not inventory.databases:
            return Unknown("the image has no package database (dpkg, rpm or apk): its packages are unknown")
        findings, warnings = match_packages(inventory.packages, ecosystems, self.advisories.lookup)
        return Vulnerabilities(ecosystems, tuple(findings), tuple(warnings), verdict)

    @cached_property
    def pending_updates(self) -> list[PendingUpdate] | Unknown | None:
        """Security updates the live host's package manager offers; None when it cannot be asked."""
        run = getattr(self.target, "run", None)
        if run is None or not self.target.is_live_host:
            return None
        family = self.family
        if family == "debian":
            result = run(APT_COMMAND)
            parse = parse_apt_simulation
        elif family == "rhel":
            result = run(DNF_COMMAND)
            parse = parse_dnf_updateinfo
        else:
            return None
        if isinstance(result, Unknown):
            return result
        status, output = result
        if status != 0:
            return Unknown(f"the package manager could not list updates (exit {status})")
        return parse(output)
