"""Fixture cases for the checks: a root filesystem (a fixture root, or one with an overlay of
tests/fixtures/cases/ laid over it), the file modes git cannot keep, the audit's options, and the status
each named check must have there. test_coverage.py runs them all and asserts every registered check has a
passing and a failing case; each overlay's HOW.md says how its files were made."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from imagevet.model import Status
from imagevet.provenance.model import OFFICIAL, UNOFFICIAL, Verification
from imagevet.target import open_target
from imagevet.target.base import Target
from tests.conftest import FIXTURES
from tests.support.images import CONFIG, layer_bytes, make_docker_archive

AS_OF = dt.date(2026, 11, 28)
ROOTFS = FIXTURES / "rootfs"
OVERLAYS = FIXTURES / "cases"
P, F = Status.PASS, Status.FAIL
SELINUX_CHECKS = ("selinux-not-disabled", "selinux-policy-configured", "selinux-boot-enabled")

STRICT_MODES = {
    "etc/passwd": 0o644,
    "etc/group": 0o644,
    "etc/shadow": 0o640,
    "etc/gshadow": 0o640,
    "etc/ssh/sshd_config": 0o600,
    "etc/ssh/ssh_host_ed25519_key": 0o600,
    "etc/ssh/ssh_host_ed25519_key.pub": 0o644,
    "root": 0o700,
    "root/.profile": 0o644,
    "etc/passwd-": 0o644,
    "etc/group-": 0o644,
    "etc/shadow-": 0o640,
    "etc/gshadow-": 0o600,
    "etc/shells": 0o644,
    "etc/security/opasswd": 0o600,
    "etc/motd": 0o644,
    "etc/issue": 0o644,
    "etc/issue.net": 0o644,
    "etc/crontab": 0o600,
    "etc/cron.hourly": 0o700,
    "etc/cron.daily": 0o700,
    "etc/cron.weekly": 0o700,
    "etc/cron.monthly": 0o700,
    "etc/cron.d": 0o700,
    "boot/grub/grub.cfg": 0o600,
}
LOOSE_MODES = {
    "etc/passwd": 0o666,
    "etc/group": 0o666,
    "etc/gshadow": 0o644,
    "etc/ssh/ssh_host_ed25519_key": 0o644,
    "etc/ssh/ssh_host_ed25519_key.pub": 0o664,
    "root": 0o755,
    "root/.profile": 0o666,
    "etc/passwd-": 0o664,
    "etc/group-": 0o646,
    "etc/shadow-": 0o644,
    "etc/gshadow-": 0o644,
    "etc/shells": 0o666,
    "etc/security/opasswd": 0o640,
    "etc/motd": 0o664,
    "etc/issue": 0o666,
    "etc/issue.net": 0o646,
    "etc/crontab": 0o644,
    "etc/cron.hourly": 0o755,
    "etc/cron.daily": 0o750,
    "etc/cron.weekly": 0o705,
    "etc/cron.monthly": 0o770,
    "etc/cron.d": 0o755,
    "srv/upload": 0o777,
    "boot/grub/grub.cfg": 0o444,  # as some grub-mkconfig releases leave it
}
# Owners git cannot keep: (uid, gid) of paths in an overlay; cis-fail's are ids its passwd and group lack.
FOREIGN_OWNERS = {"srv/upload/build.log": (4242, 4343)}
# The checks that judge one CIS recommendation each (issue 20): what the two overlays make of them.
CIS_ROWS = (
    "sysctl-icmp-broadcasts sysctl-icmp-bogus sysctl-secure-redirects sysctl-ipv6-router-adverts "
    "sysctl-ipv6-accept-redirects sysctl-ipv6-forward sysctl-ipv6-source-route file-perms-passwd-backup "
    "file-perms-group-backup file-perms-shadow-backup file-perms-gshadow-backup file-perms-shells "
    "file-perms-opasswd file-perms-motd file-perms-issue file-perms-issue-net file-perms-crontab "
    "file-perms-cron-hourly file-perms-cron-daily file-perms-cron-weekly file-perms-cron-monthly "
    "file-perms-cron-d packages-no-prelink packages-no-autofs packages-no-avahi packages-no-dhcp-server "
    "packages-no-dns-server packages-no-dnsmasq packages-no-ftp-server packages-no-ldap-server "
    "packages-no-mail-access-server packages-no-nfs-server packages-no-nis-server packages-no-print-server "
    "packages-no-rpcbind packages-no-rsync packages-no-samba packages-no-snmp-server packages-no-tftp-server "
    "packages-no-web-proxy packages-no-web-server packages-no-nis-client packages-no-ldap-client "
    "packages-no-ftp-client packages-sudo packages-pam-modules packages-pam-pwquality packages-aide "
    "ssh-max-sessions ssh-use-pam ssh-banner password-hashing accounts-uid0-root-only "
    "accounts-gid0-root-only "
    "accounts-gid0-group-root-only accounts-passwords-shadowed accounts-primary-groups-exist "
    "accounts-shadow-group-empty accounts-unique-uids accounts-unique-gids accounts-unique-names "
    "accounts-unique-group-names mount-tmp-nodev mount-tmp-nosuid mount-tmp-noexec mount-home-nodev "
    "mount-home-nosuid mount-var-nodev mount-var-nosuid mount-var-tmp-nodev mount-var-tmp-nosuid "
    "mount-var-tmp-noexec mount-var-log-nodev mount-var-log-nosuid mount-var-log-noexec "
    "mount-var-log-audit-nodev mount-var-log-audit-nosuid mount-var-log-audit-noexec "
    "packages-no-telnet-client packages-no-rsh-client packages-no-talk-client packages-no-tftp-client "
    "packages-no-xinetd packages-no-telnet-server packages-no-setroubleshoot packages-no-mcstrans "
    "packages-selinux kernel-module-usb-storage kernel-module-squashfs kernel-module-udf "
    "kernel-module-cramfs kernel-module-freevxfs kernel-module-hfs kernel-module-hfsplus kernel-module-jffs2 "
    "ssh-host-public-keys su-restricted shell-timeout "
    "password-inactive accounts-system-no-shell accounts-home-dirs accounts-dot-files sudo-reauth-timeout "
    "sudo-authenticate ssh-max-startups ssh-access-limited password-history-enabled "
    "password-history-remember password-history-root password-history-authtok password-unix-no-remember "
    "aide-database aide-periodic sysctl-ptrace-scope password-difok password-maxrepeat password-maxsequence "
    "password-dictcheck password-enforcing password-enforce-root logging-journald-compress "
    "logging-journald-storage banner-motd banner-issue banner-issue-net file-perms-world-writable "
    "file-perms-sticky-dirs file-perms-unowned file-perms-ungrouped accounts-password-change-past "
    "file-perms-grub-cfg password-unix-enabled password-unix-no-nullok password-unix-hashing "
    "password-unix-authtok accounts-no-shell-locked accounts-root-umask dev-shm-separate mount-dev-shm-nodev "
    "mount-dev-shm-nosuid mount-dev-shm-noexec service-cron-enabled service-journald-enabled "
    "service-journal-remote-disabled service-bluetooth-disabled service-chrony-enabled "
    "logging-journald-no-forward"
).split()
# The services CIS asks to be started only where they are the ones in use: skipped on cis-pass and
# cis-fail (not installed), started on services-on, disabled or masked on services-off.
RSYSLOG_CHECKS = ("logging-rsyslog-no-remote-input",)  # skipped without rsyslog
SERVICES_IN_USE = ("service-rsyslog-enabled", "service-timesyncd-enabled", "service-journal-upload-enabled")
MOUNT_ROWS = [check for check in CIS_ROWS if check.startswith("mount-")]
# One aspect of the homes each (checks/home_aspects.py): all pass on cis-pass; cis-fail breaks the mode,
# .rhosts and writable dot files, homes-fail the rest (tests/fixtures/cases/homes-fail/HOW.md).
HOME_ASPECTS = (
    "accounts-home-exists accounts-home-owned accounts-home-mode accounts-no-netrc accounts-no-forward "
    "accounts-no-rhosts accounts-dot-files-not-writable"
).split()
HOMES_FAIL_IN_CIS_FAIL = ["accounts-home-mode", "accounts-no-rhosts", "accounts-dot-files-not-writable"]


def _verification(verdict: str) -> Verification:
    return Verification(
        "aws",
        "ami-0123456789abcdef0",
        verdict,
        "Debian",
        "136693071363",
        "debian-12-amd64-20260101-2000",
        "debian",
        "12",
        None,
        30,
        False,
        None,
        (),
        (f"publisher {verdict}",),
    )


@dataclass(frozen=True)
class Case:
    name: str
    expect: dict[str, Status]
    root: str = "hardened-debian"
    overlay: str | None = None
    modes: dict[str, int] = field(default_factory=dict)
    owners: dict[str, tuple[int, int]] = field(default_factory=dict)  # (uid, gid), set as root
    cloud: str | None = None
    provenance: Verification | None = None
    advisories: bool = False  # the fixture advisory database (tests/fixtures/osv)
    container_user: str | None = None  # audit the root as a docker archive whose config has this User
    as_of: dt.date = AS_OF


CASES = (
    Case(
        "cis-pass",
        overlay="cis-pass",
        modes=STRICT_MODES,
        advisories=True,
        cloud="aws",
        provenance=_verification(OFFICIAL),
        expect={
            "source-official": P,
            "updates-pending-security": P,
            "file-perms-passwd": P,
            "file-perms-group": P,
            "file-perms-shadow": P,
            "file-perms-gshadow": P,
            "file-perms-sshd-config": P,
            "ssh-host-keys": P,
            "ssh-password-auth": P,
            "ssh-root-login": P,
            "ssh-empty-passwords": P,
            "ssh-max-auth-tries": P,
            "ssh-login-grace-time": P,
            "ssh-client-alive": P,
            "ssh-x11-forwarding": P,
            "ssh-ignore-rhosts": P,
            "ssh-hostbased-auth": P,
            "ssh-permit-user-env": P,
            "ssh-log-level": P,
            "ssh-ciphers": P,
            "ssh-macs": P,
            "ssh-kex": P,
            "sysctl-rp-filter": P,
            "sysctl-swappiness": P,
            "sysctl-aslr": P,
            "sysctl-suid-dumpable": P,
            "sysctl-accept-redirects": P,
            "sysctl-send-redirects": P,
            "sysctl-source-route": P,
            "sysctl-log-martians": P,
            "sysctl-syncookies": P,
            "sysctl-ip-forward": P,
            "packages-insecure-absent": P,
            "time-sync-installed": P,
            "auditd-installed": P,
            "sudo-use-pty": P,
            "sudo-logfile": P,
            "tmp-separate": P,
            "password-max-days": P,
            "password-min-days": P,
            "password-warn-age": P,
            "default-umask": P,
            "password-quality": P,
            "account-lockout": P,
            "core-dumps-restricted": P,
            "filesystem-modules-disabled": P,
            "logging-configured": P,
            "accounts-empty-password": P,
            "accounts-default-password": P,
            "accounts-root-locked": P,
            "mac-enforcing": P,
            "updates-automatic": P,
            "cloudinit-version": P,
            "os-lts": P,
            "os-variant": P,
            "os-supported": P,
            "cloud-init-datasource": P,
            "cloud-agent": P,
            "cloud-monitoring-agent": P,
            "cloud-time-sync": P,
            "cloud-encryption-tools": P,
            **dict.fromkeys(CIS_ROWS, P),
            **dict.fromkeys(HOME_ASPECTS, P),
        },
    ),
    Case(
        "cis-fail",
        overlay="cis-fail",
        modes=LOOSE_MODES,
        owners=FOREIGN_OWNERS,
        advisories=True,
        cloud="aws",
        provenance=_verification(UNOFFICIAL),
        expect={
            "source-official": F,
            "updates-pending-security": F,
            "file-perms-passwd": F,
            "file-perms-group": F,
            "file-perms-shadow": F,
            "file-perms-gshadow": F,
            "file-perms-sshd-config": F,
            "ssh-host-keys": F,
            "ssh-empty-passwords": F,
            "ssh-max-auth-tries": F,
            "ssh-login-grace-time": F,
            "ssh-client-alive": F,
            "ssh-x11-forwarding": F,
            "ssh-ignore-rhosts": F,
            "ssh-hostbased-auth": F,
            "ssh-permit-user-env": F,
            "ssh-log-level": F,
            "ssh-ciphers": F,
            "ssh-macs": F,
            "ssh-kex": F,
            "sysctl-aslr": F,
            "sysctl-suid-dumpable": F,
            "sysctl-accept-redirects": F,
            "sysctl-send-redirects": F,
            "sysctl-source-route": F,
            "sysctl-log-martians": F,
            "sysctl-syncookies": F,
            "sysctl-ip-forward": F,
            "packages-insecure-absent": F,
            "time-sync-installed": F,
            "auditd-installed": F,
            "sudo-use-pty": F,
            "sudo-logfile": F,
            "tmp-separate": F,
            "password-max-days": F,
            "password-min-days": F,
            "password-warn-age": F,
            "default-umask": F,
            "password-quality": F,
            "account-lockout": F,
            "core-dumps-restricted": F,
            "filesystem-modules-disabled": F,
            "logging-configured": F,
            "cloud-init-datasource": P,
            "cloud-agent": F,
            "cloud-monitoring-agent": F,
            "cloud-time-sync": F,
            "cloud-encryption-tools": F,
            # the IPv4 defaults (secure_redirects 1) and the IPv6 keys set loose in 61-weak.conf
            **dict.fromkeys([c for c in CIS_ROWS if c not in MOUNT_ROWS], F),
            **dict.fromkeys(HOMES_FAIL_IN_CIS_FAIL, F),
            **dict.fromkeys(MOUNT_ROWS, Status.SKIP),  # no /etc/fstab: no separate mounts to judge
        },
    ),
    Case(
        "weak-rocky9",
        root="weak-rocky9",
        cloud="aws",
        expect={
            "ssh-password-auth": F,
            "ssh-root-login": F,
            "accounts-empty-password": F,
            "mac-enforcing": F,
            "updates-automatic": F,
            "cloudinit-version": F,
            "sysctl-rp-filter": F,
            "sysctl-swappiness": F,
        },
    ),
    Case(
        "default-passwords",
        root="default-passwords",
        expect={"accounts-default-password": F, "accounts-root-locked": F},
    ),
    Case("ubuntu2510", root="ubuntu2510", expect={"os-lts": F, "os-variant": F}),
    Case("hardened-debian-window", expect={"os-support-window": F}),
    Case("debian12-after-its-end", as_of=dt.date(2028, 7, 1), expect={"os-supported": F}),
    Case("mounts-loose", overlay="mounts-loose", expect=dict.fromkeys(MOUNT_ROWS, F)),
    Case(
        "services-on",
        overlay="services-on",
        expect={
            **dict.fromkeys(SERVICES_IN_USE, P),
            "service-cron-enabled": F,
            "service-chrony-enabled": Status.SKIP,
        },
    ),
    Case("services-off", overlay="services-off", expect=dict.fromkeys(SERVICES_IN_USE, F)),
    Case("rsyslog-local", overlay="rsyslog-local", expect=dict.fromkeys(RSYSLOG_CHECKS, P)),
    Case("rsyslog-listen", overlay="rsyslog-listen", expect=dict.fromkeys(RSYSLOG_CHECKS, F)),
    Case(
        "homes-fail",
        overlay="homes-fail",
        modes={"root": 0o700, "srv/ops": 0o750},  # git keeps no directory modes
        expect={
            **dict.fromkeys(("accounts-home-exists", "accounts-home-owned"), F),
            **dict.fromkeys(("accounts-no-netrc", "accounts-no-forward"), F),
            **dict.fromkeys(HOMES_FAIL_IN_CIS_FAIL, P),
        },
    ),
    Case(
        "tmp-mount-unit",
        overlay="tmp-mount-unit",
        expect={
            "mount-tmp-nodev": P,
            "mount-tmp-nosuid": P,
            "mount-tmp-noexec": F,
            "mount-var-nodev": Status.SKIP,
            # no fstab line for /dev/shm: systemd's own mount (nosuid, nodev), the stand-in program's
            "dev-shm-separate": P,
            "mount-dev-shm-nodev": P,
            "mount-dev-shm-nosuid": P,
            "mount-dev-shm-noexec": F,
        },
    ),
    Case(
        "mounts-of-a-container",
        root="alpine-container",
        container_user="app",
        expect={**dict.fromkeys(MOUNT_ROWS, Status.SKIP), "service-cron-enabled": Status.SKIP},
    ),
    Case("cis-pass-on-azure", overlay="cis-pass", cloud="azure", expect={"cloud-init-datasource": F}),
    Case("rhel9-eus", root="rhel9-eus", expect={"os-support-window": P}),
    Case(
        "crypto-default", root="rhel9-eus", overlay="crypto-default", expect={"crypto-policy-not-legacy": P}
    ),
    Case("crypto-legacy", root="rhel9-eus", overlay="crypto-legacy", expect={"crypto-policy-not-legacy": F}),
    Case(
        "selinux-off",
        root="rhel9-eus",
        overlay="selinux-off",
        expect=dict.fromkeys(SELINUX_CHECKS, F),
    ),
    Case(
        "selinux-on",
        root="rhel9-eus",
        overlay="selinux-on",
        expect=dict.fromkeys(SELINUX_CHECKS, P),
    ),
    Case(
        "red-hat-and-scheduler-checks-on-debian-without-cron",
        root="hardened-debian",
        expect=dict.fromkeys((*SELINUX_CHECKS, "cron-restricted", "at-restricted"), Status.SKIP),
    ),
    Case(
        "scheduler-open",
        overlay="scheduler-open",
        modes={"etc/at.deny": 0o640},
        expect={"cron-restricted": F, "at-restricted": F},
    ),
    Case(
        "scheduler-allowed",
        overlay="scheduler-allowed",
        modes={"etc/at.deny": 0o640, "etc/cron.allow": 0o640, "etc/at.allow": 0o600},
        expect={"cron-restricted": P, "at-restricted": P},
    ),
    Case(
        "scheduler-loose-allow",
        overlay="scheduler-allowed",
        modes={"etc/at.deny": 0o644, "etc/cron.allow": 0o644, "etc/at.allow": 0o640},
        expect={"cron-restricted": F, "at-restricted": F},
    ),
    Case("container-root", root="alpine-container", container_user="", expect={"container-user": F}),
    Case("container-app", root="alpine-container", container_user="app", expect={"container-user": P}),
)


def build_root(case: Case, into: Path) -> Path:
    """A copy of the case's root with its overlay laid over it and its modes set."""
    root = into / case.name
    shutil.copytree(ROOTFS / case.root, root, symlinks=True)
    if case.overlay:
        shutil.copytree(
            OVERLAYS / case.overlay,
            root,
            symlinks=True,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("HOW.md"),
        )
    for path, mode in case.modes.items():
        (root / path).chmod(mode)
    for path, (uid, gid) in case.owners.items():
        os.lchown(root / path, uid, gid)
    return root


@contextmanager
def opened(case: Case, into: Path) -> Iterator[Target]:
    root = build_root(case, into)
    if case.container_user is None:
        spec = str(root)
    else:
        config = {**CONFIG, "config": {**CONFIG["config"], "User": case.container_user}}  # type: ignore[dict-item]
        spec = f"docker-archive:{make_docker_archive([layer_bytes(root)], into / f'{case.name}.tar', config)}"
    target = open_target(spec)
    try:
        yield target
    finally:
        target.close()
