"""All facts about one target, each gathered lazily and at most once per run.

Checks ask for the facts they need; a run limited with ``--checks`` therefore never pays for the others
(hashing passwords with yescrypt, for instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from imagevet.facts.accounts import Accounts, gather_accounts
from imagevet.facts.cloudinit import CloudInit, gather_cloudinit
from imagevet.facts.mac import MacFacts, gather_mac
from imagevet.facts.os_release import gather_os_release
from imagevet.facts.pending import (
    APT_COMMAND,
    DNF_COMMAND,
    PendingUpdate,
    parse_apt_simulation,
    parse_dnf_updateinfo,
)
from imagevet.facts.sshd import SshdConfig, gather_sshd
from imagevet.facts.support import SupportFacts, gather_support
from imagevet.facts.sysctl import SysctlConfig, gather_sysctl, read_running
from imagevet.facts.updates import UpdatesFacts, gather_updates
from imagevet.inventory.collect import Inventory, InventoryError, collect_inventory
from imagevet.model import OsRelease, Package, Unknown
from imagevet.target.base import Target
from imagevet.vuln.coverage import FIX, Advisories, Verdict
from imagevet.vuln.ecosystem import Ecosystems, ecosystems_for
from imagevet.vuln.matcher import Finding, match_packages

# Keys whose running value we read from /proc/sys on a live host.
LIVE_SYSCTL_KEYS = [
    "net.ipv4.conf.all.rp_filter",
    "vm.swappiness",
    "kernel.randomize_va_space",
    "fs.suid_dumpable",
    "net.ipv4.conf.all.accept_redirects",
    "net.ipv4.conf.default.accept_redirects",
    "net.ipv4.conf.all.send_redirects",
    "net.ipv4.conf.default.send_redirects",
    "net.ipv4.conf.all.accept_source_route",
    "net.ipv4.conf.all.log_martians",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ip_forward",
]


@dataclass(frozen=True)
class Vulnerabilities:
    ecosystems: Ecosystems
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]  # advisories that could not be evaluated (bad versions)
    coverage: Verdict  # what the database holds for the image's ecosystem, with its warnings


class Facts:
    def __init__(self, target: Target, advisories: Advisories | None = None) -> None:
        """``advisories``: the advisory database with its coverage and policy; None when none was asked for
        (then the facts that need it are Unknown, never empty)."""
        self.target = target
        self.advisories = advisories

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
            config.running = read_running(self.target, LIVE_SYSCTL_KEYS)
        return config

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
