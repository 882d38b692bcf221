"""All facts about one target, each gathered lazily and at most once per run.

Checks ask for the facts they need; a run limited with ``--checks`` therefore never pays for the others
(hashing passwords with yescrypt, for instance).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from imagevet.model import ImageConfig, OsRelease, Package, Unknown

# Each fact's module is imported by the property that gathers it, so a run pays only for the facts its
# checks ask for (issue 19: start-up is most of an audit's time); the names below are for annotations.
if TYPE_CHECKING:
    from imagevet.facts.account_db import AccountDatabase
    from imagevet.facts.accounts import Accounts, ShadowEntry
    from imagevet.facts.aide import AideFacts
    from imagevet.facts.banners import Banner
    from imagevet.facts.cloudinit import CloudConfig, CloudInit
    from imagevet.facts.crypto_policy import CryptoPolicy
    from imagevet.facts.file_walk import KnownIds
    from imagevet.facts.files import SystemFiles
    from imagevet.facts.homes import HomeDir
    from imagevet.facts.limits import Limit
    from imagevet.facts.logindefs import LoginDefs
    from imagevet.facts.mac import MacFacts
    from imagevet.facts.modprobe import InstallLine
    from imagevet.facts.mounts import Mounts
    from imagevet.facts.pam import PamFacts, Setting
    from imagevet.facts.pam_service import ServiceStack
    from imagevet.facts.pending import PendingUpdate
    from imagevet.facts.rsyslog import Rsyslog
    from imagevet.facts.shell_vars import Effect, UmaskCall
    from imagevet.facts.sshd import SshdConfig
    from imagevet.facts.sudoers import Sudoers
    from imagevet.facts.support import SupportFacts
    from imagevet.facts.sysctl import SysctlConfig
    from imagevet.facts.systemd_conf import Journald, SystemdSetting
    from imagevet.facts.timesync import ConfigLine
    from imagevet.facts.units import UnitIndex, UnitState
    from imagevet.facts.updates import UpdatesFacts
    from imagevet.inventory.collect import Inventory
    from imagevet.target.base import Target
    from imagevet.target.walk import PendingWalk, WalkResult
    from imagevet.vuln.coverage import Advisories, Verdict
    from imagevet.vuln.ecosystem import Ecosystems
    from imagevet.vuln.matcher import Finding


@dataclass(frozen=True)
class FactNeeds:
    """What the checks want looked at beyond fixed files: the sysctl keys whose running value is read on a
    live host, the paths whose presence they ask about (agents installed outside the package database)
    and the files whose mode and owner they judge. Derived from the checks' data (checks/needs.py), never
    kept by hand here."""

    sysctl_keys: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    file_modes: tuple[str, ...] = ()
    file_walk: bool = False  # a check judges every file (world-writable, unowned): start the walk early


@dataclass(frozen=True)
class Vulnerabilities:
    """The advisory matches of the image's packages, the ecosystems asked and what could not be judged."""

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
        from imagevet.facts.os_release import gather_os_release

        return gather_os_release(self.target)

    @property
    def family(self) -> str:
        return self.os_release.family if isinstance(self.os_release, OsRelease) else "unknown"

    @cached_property
    def inventory(self) -> Inventory | Unknown:
        from imagevet.inventory.collect import InventoryError, collect_inventory

        os = self.os_release if isinstance(self.os_release, OsRelease) else None
        try:
            return collect_inventory(self.target, os, purls=False)  # no check reads a purl
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
        from imagevet.facts.sshd import gather_sshd

        return gather_sshd(self.target)

    @cached_property
    def sysctl(self) -> SysctlConfig:
        from imagevet.facts.sysctl import gather_sysctl, read_running

        config = gather_sysctl(self.target)
        if self.target.is_live_host:
            config.running = read_running(self.target, list(self.needs.sysctl_keys))
        return config

    @cached_property
    def account_database(self) -> AccountDatabase | Unknown:
        """Every entry of /etc/passwd and /etc/group, duplicates included (facts/account_db.py)."""
        from imagevet.facts.account_db import gather_account_database

        return gather_account_database(self.target)

    def start_file_walk(self) -> None:
        """Begin the walk of every file now, when a check will want it: on a directory tree find(1) then
        runs on the other core while the other checks read their files."""
        if self.needs.file_walk:
            self._pending_walk  # noqa: B018 (a cached property, started by being read)

    @cached_property
    def _pending_walk(self) -> PendingWalk:
        from imagevet.facts.file_walk import start_walk

        return start_walk(self.target, self.known_ids)

    @cached_property
    def known_ids(self) -> KnownIds:
        """The uids of /etc/passwd and gids of /etc/group, each read apart (facts/file_walk.py)."""
        from imagevet.facts.file_walk import gather_known_ids

        return gather_known_ids(self.target)

    @cached_property
    def file_walk(self) -> WalkResult | Unknown:
        """Every file and directory of the image looked at once (target/walk.py): the notable ones."""
        return self._pending_walk.result()

    @cached_property
    def shells(self) -> tuple[str, ...] | Unknown:
        from imagevet.facts.logins import gather_shells

        return gather_shells(self.target)

    @cached_property
    def shell_timeout(self) -> tuple[Effect, ...] | Unknown:
        from imagevet.facts.logins import gather_timeout

        return gather_timeout(self.target)

    @cached_property
    def profile_umasks(self) -> tuple[UmaskCall, ...] | Unknown:
        from imagevet.facts.logins import gather_umasks

        return gather_umasks(self.target)

    @cached_property
    def root_umasks(self) -> tuple[UmaskCall, ...] | Unknown:
        """The umasks root's own startup files run (facts/logins.ROOT_STARTUP)."""
        from imagevet.facts.logins import gather_root_umasks

        return gather_root_umasks(self.target)

    @cached_property
    def useradd_defaults(self) -> dict[str, Setting] | Unknown | None:
        from imagevet.facts.logins import gather_useradd_defaults

        return gather_useradd_defaults(self.target)

    @cached_property
    def crypto_policy(self) -> CryptoPolicy | Unknown | None:
        from imagevet.facts.crypto_policy import gather_crypto_policy

        return gather_crypto_policy(self.target)

    @cached_property
    def su_stack(self) -> ServiceStack | Unknown | None:
        from imagevet.facts.logins import gather_su_stack

        return gather_su_stack(self.target)

    @cached_property
    def login_homes(self) -> tuple[HomeDir, ...] | Unknown:
        """The homes of the accounts that can log in (facts/homes.py); Unknown when the databases that say
        which accounts those are cannot be read whole."""
        database, shells = self.account_database, self.shells
        if isinstance(database, Unknown):
            return database
        if isinstance(shells, Unknown):
            return shells
        if database.problems:
            return Unknown("; ".join(database.problems[:3]))
        from imagevet.facts.homes import gather_homes, login_users

        return gather_homes(self.target, login_users(database.users, shells, self.shell_programs))

    @cached_property
    def shell_programs(self) -> dict[str, str]:
        """What each passwd shell is once links inside the image are followed (/usr/local/bin/lsh -> bash:
        login runs bash); a shell that cannot be resolved maps to itself."""
        database = self.account_database
        if isinstance(database, Unknown):
            return {}
        resolved: dict[str, str] = {}
        for shell in {user.shell for user in database.users if user.shell.startswith("/")}:
            found = self.target.canonical(shell)
            resolved[shell] = shell if isinstance(found, Unknown) else found
        return resolved

    @cached_property
    def hosts_equiv(self) -> bool:
        """Whether /etc/hosts.equiv (rsh's host-wide trust file) exists."""
        return self.target.exists("/etc/hosts.equiv")

    @cached_property
    def login_defs(self) -> LoginDefs | Unknown:
        from imagevet.facts.logindefs import gather_login_defs

        return gather_login_defs(self.target)

    @cached_property
    def aide(self) -> AideFacts:
        """AIDE's database and schedules (asked only where the aide package is installed)."""
        from imagevet.facts.aide import gather_aide

        return gather_aide(self.target)

    @cached_property
    def sudoers(self) -> Sudoers | Unknown | None:
        """sudo's Defaults lines; None when sudo is not installed."""
        from imagevet.facts.sudoers import gather_sudoers

        return gather_sudoers(self.target)

    @cached_property
    def mounts(self) -> Mounts:
        from imagevet.facts.mounts import gather_mounts

        return gather_mounts(self.target)

    @cached_property
    def rsyslog(self) -> Rsyslog | Unknown | None:
        """rsyslog's configuration files and network inputs; None without /etc/rsyslog.conf."""
        from imagevet.facts.rsyslog import gather_rsyslog

        return gather_rsyslog(self.target)

    @cached_property
    def unit_index(self) -> UnitIndex | Unknown:
        from imagevet.facts.units import index_units

        return index_units(self.target)

    def unit(self, name: str) -> UnitState | Unknown:
        """Whether systemd starts ``name`` at boot (facts/units.py), or why its directories are unread."""
        if isinstance(self.unit_index, Unknown):
            return self.unit_index
        from imagevet.facts.units import unit_state

        return unit_state(self.target, self.unit_index, name)

    @cached_property
    def modprobe(self) -> tuple[InstallLine, ...] | Unknown:
        from imagevet.facts.modprobe import gather_modprobe

        return gather_modprobe(self.target)

    @cached_property
    def limits(self) -> tuple[Limit, ...]:
        from imagevet.facts.limits import gather_limits

        return gather_limits(self.target)

    @cached_property
    def coredump_conf(self) -> tuple[SystemdSetting, ...]:
        from imagevet.facts.systemd_conf import COREDUMP_CONF, gather_systemd_conf

        return gather_systemd_conf(self.target, COREDUMP_CONF)

    @cached_property
    def journald(self) -> Journald:
        from imagevet.facts.systemd_conf import gather_journald

        return gather_journald(self.target)

    @cached_property
    def system_files(self) -> SystemFiles:
        """Modes and owners of passwd, group, shadow, gshadow, sshd_config, the SSH host keys and every
        file a files row judges."""
        from imagevet.facts.files import gather_system_files

        return gather_system_files(self.target, self.needs.file_modes, self.configured_host_keys)

    @property
    def configured_host_keys(self) -> tuple[str, ...]:
        """The HostKey paths the sshd configuration names (facts/files.py configured_host_keys)."""
        from imagevet.facts.files import configured_host_keys

        return configured_host_keys(self.target, self.sshd)

    @cached_property
    def banners(self) -> dict[str, Banner | Unknown]:
        """The login banners and every file sshd's Banner names (facts/banners.py), by path."""
        from imagevet.facts.banners import gather_banners

        return gather_banners(self.target, self.sshd)

    def banner(self, path: str) -> Banner | Unknown:
        return self.banners.get(path) or Unknown(f"{path}: not among the banners imagevet reads")

    @cached_property
    def pam(self) -> PamFacts:
        from imagevet.facts.pam import gather_pam

        return gather_pam(self.target)

    @cached_property
    def cloud_config(self) -> CloudConfig:
        from imagevet.facts.cloudinit import gather_cloud_config

        return gather_cloud_config(self.target)

    @cached_property
    def time_config(self) -> tuple[ConfigLine, ...]:
        from imagevet.facts.timesync import gather_time_config

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
        from imagevet.facts.accounts import gather_accounts

        return gather_accounts(self.target)

    @cached_property
    def shadow(self) -> tuple[ShadowEntry, ...] | Unknown | None:
        """/etc/shadow's entries as getspnam returns them, without the password guessing of ``accounts``."""
        from imagevet.facts.accounts import gather_shadow

        return gather_shadow(self.target)

    @cached_property
    def mac(self) -> MacFacts:
        from imagevet.facts.mac import gather_mac

        return gather_mac(self.target, self.packages)

    @cached_property
    def updates(self) -> UpdatesFacts | Unknown:
        from imagevet.facts.updates import gather_updates

        return gather_updates(self.target, self.family, self.packages)

    @cached_property
    def cloud_init(self) -> CloudInit | Unknown | None:
        from imagevet.facts.cloudinit import gather_cloudinit

        return gather_cloudinit(self.target, self.packages)

    @cached_property
    def support(self) -> SupportFacts:
        """Paid extended support the image has attached (Ubuntu Pro ESM, RHEL EUS, SUSE LTSS)."""
        from imagevet.facts.support import gather_support

        return gather_support(self.target)

    @cached_property
    def vulnerabilities(self) -> Vulnerabilities | Unknown:
        """Known vulnerabilities of the installed packages, or why they cannot be known: no OS release, no
        OSV ecosystem for it, no database, a database without the image's ecosystem or too old for the
        policy, an unreadable package database. Never an empty list for any of those."""
        from imagevet.vuln.coverage import FIX
        from imagevet.vuln.ecosystem import ecosystems_for

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
        from imagevet.vuln.matcher import match_packages  # only for a run that has advisories to match

        findings, warnings = match_packages(inventory.packages, ecosystems, self.advisories.lookup)
        return Vulnerabilities(ecosystems, tuple(findings), tuple(warnings), verdict)

    @cached_property
    def pending_updates(self) -> list[PendingUpdate] | Unknown | None:
        """Security updates the live host's package manager offers; None when it cannot be asked."""
        from imagevet.facts.pending import (
            APT_COMMAND,
            DNF_COMMAND,
            parse_apt_simulation,
            parse_dnf_updateinfo,
        )

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
