"""The explicit list of checks, in the order reports list them: id -> predicate. No import side effects,
no package walking.

``ROW`` marks a value check: its predicate is its ``value`` row in the subject YAML, judged by
checks/values.py. The metadata loader refuses a ROW without a row, and a row on a Python check.
"""

from __future__ import annotations

from typing import Final

from imagevet.checks import (
    account_db,
    accounts,
    aide,
    cloud,
    files,
    homes,
    lifecycle,
    logins,
    pam_history,
    ssh,
    sudo,
    system,
)
from imagevet.checks.base import CheckOptions, Predicate
from imagevet.checks.metadata import builtin_metadata
from imagevet.checks.values import judge
from imagevet.facts import Facts
from imagevet.model import Outcome


class _Row:
    def __repr__(self) -> str:
        return "ROW"


ROW: Final = _Row()

REGISTRY: tuple[tuple[str, Predicate | _Row], ...] = (
    ("source-official", system.source_official),
    ("ssh-password-auth", ssh.password_auth),
    ("ssh-root-login", ROW),
    ("ssh-empty-passwords", ROW),
    ("accounts-empty-password", accounts.empty_password),
    ("accounts-default-password", accounts.default_password),
    ("accounts-root-locked", accounts.root_locked),
    ("mac-enforcing", system.mac_enforcing),
    ("updates-automatic", system.updates_automatic),
    ("cloudinit-version", cloud.cloudinit_version),
    ("updates-pending-security", system.updates_pending_security),
    ("sysctl-rp-filter", ROW),
    ("sysctl-swappiness", ROW),
    ("container-user", system.container_user),
    ("os-lts", lifecycle.os_lts),
    ("os-variant", lifecycle.os_variant),
    ("os-supported", lifecycle.os_supported),
    ("os-support-window", lifecycle.os_support_window),
    # CIS Level 1 kind of hardening (profiles cis-l1, mlps-l3, pci-dss)
    ("file-perms-passwd", ROW),
    ("file-perms-group", ROW),
    ("file-perms-shadow", ROW),
    ("file-perms-gshadow", ROW),
    ("file-perms-sshd-config", files.perms_sshd_config),
    ("ssh-host-keys", ssh.host_keys),
    ("ssh-max-auth-tries", ROW),
    ("ssh-login-grace-time", ROW),
    ("ssh-client-alive", ROW),
    ("ssh-x11-forwarding", ROW),
    ("ssh-ignore-rhosts", ROW),
    ("ssh-hostbased-auth", ROW),
    ("ssh-permit-user-env", ROW),
    ("ssh-log-level", ROW),
    ("sysctl-aslr", ROW),
    ("sysctl-suid-dumpable", ROW),
    ("sysctl-accept-redirects", ROW),
    ("sysctl-send-redirects", ROW),
    ("sysctl-source-route", ROW),
    ("sysctl-log-martians", ROW),
    ("sysctl-syncookies", ROW),
    ("sysctl-ip-forward", ROW),
    ("packages-insecure-absent", ROW),
    ("time-sync-installed", ROW),
    ("auditd-installed", ROW),
    ("sudo-use-pty", sudo.use_pty),
    ("sudo-logfile", sudo.logfile),
    ("sudo-reauth-timeout", sudo.reauth_timeout),
    ("sudo-authenticate", sudo.authenticate),
    ("tmp-separate", system.tmp_separate),
    ("ssh-ciphers", ROW),
    ("ssh-macs", ROW),
    ("ssh-kex", ROW),
    ("password-max-days", ROW),
    ("password-quality", accounts.password_quality),
    ("account-lockout", accounts.account_lockout),
    ("password-history-enabled", pam_history.enabled),
    ("password-history-remember", pam_history.remember),
    ("password-history-root", pam_history.enforce_for_root),
    ("password-history-authtok", pam_history.use_authtok),
    ("password-unix-no-remember", pam_history.unix_no_remember),
    ("aide-database", aide.database),
    ("aide-periodic", aide.periodic),
    ("password-min-days", ROW),
    ("password-warn-age", ROW),
    ("default-umask", ROW),
    ("core-dumps-restricted", system.core_dumps_restricted),
    ("filesystem-modules-disabled", system.filesystem_modules_disabled),
    ("logging-configured", system.logging_configured),
    # CIS Level 1 recommendations judged as value rows (issue 20: one check per recommendation)
    ("sysctl-icmp-broadcasts", ROW),
    ("sysctl-icmp-bogus", ROW),
    ("sysctl-secure-redirects", ROW),
    ("sysctl-ipv6-router-adverts", ROW),
    ("sysctl-ipv6-accept-redirects", ROW),
    ("sysctl-ipv6-forward", ROW),
    ("sysctl-ipv6-source-route", ROW),
    ("file-perms-passwd-backup", ROW),
    ("file-perms-group-backup", ROW),
    ("file-perms-shadow-backup", ROW),
    ("file-perms-gshadow-backup", ROW),
    ("file-perms-shells", ROW),
    ("file-perms-opasswd", ROW),
    ("file-perms-motd", ROW),
    ("file-perms-issue", ROW),
    ("file-perms-issue-net", ROW),
    ("file-perms-crontab", ROW),
    ("file-perms-cron-hourly", ROW),
    ("file-perms-cron-daily", ROW),
    ("file-perms-cron-weekly", ROW),
    ("file-perms-cron-monthly", ROW),
    ("file-perms-cron-d", ROW),
    ("packages-no-prelink", ROW),
    ("packages-no-autofs", ROW),
    ("packages-no-avahi", ROW),
    ("packages-no-dhcp-server", ROW),
    ("packages-no-dns-server", ROW),
    ("packages-no-dnsmasq", ROW),
    ("packages-no-ftp-server", ROW),
    ("packages-no-ldap-server", ROW),
    ("packages-no-mail-access-server", ROW),
    ("packages-no-nfs-server", ROW),
    ("packages-no-nis-server", ROW),
    ("packages-no-print-server", ROW),
    ("packages-no-rpcbind", ROW),
    ("packages-no-rsync", ROW),
    ("packages-no-samba", ROW),
    ("packages-no-snmp-server", ROW),
    ("packages-no-tftp-server", ROW),
    ("packages-no-web-proxy", ROW),
    ("packages-no-web-server", ROW),
    ("packages-no-nis-client", ROW),
    ("packages-no-ldap-client", ROW),
    ("packages-no-ftp-client", ROW),
    ("packages-no-telnet-client", ROW),
    ("packages-no-rsh-client", ROW),
    ("packages-no-talk-client", ROW),
    ("packages-no-tftp-client", ROW),
    ("packages-no-xinetd", ROW),
    ("packages-no-telnet-server", ROW),
    ("packages-no-setroubleshoot", ROW),
    ("packages-no-mcstrans", ROW),
    ("packages-selinux", ROW),
    ("packages-sudo", ROW),
    ("packages-pam-modules", ROW),
    ("packages-pam-pwquality", ROW),
    ("packages-aide", ROW),
    ("ssh-max-sessions", ROW),
    ("ssh-use-pam", ROW),
    ("ssh-banner", ROW),
    ("password-hashing", ROW),
    ("accounts-uid0-root-only", account_db.uid0_root_only),
    ("accounts-gid0-root-only", account_db.gid0_accounts),
    ("accounts-gid0-group-root-only", account_db.gid0_group),
    ("accounts-passwords-shadowed", account_db.shadowed_passwords),
    ("accounts-primary-groups-exist", account_db.primary_groups_exist),
    ("accounts-shadow-group-empty", account_db.shadow_group_empty),
    ("accounts-unique-uids", account_db.unique_uids),
    ("accounts-unique-gids", account_db.unique_gids),
    ("accounts-unique-names", account_db.unique_user_names),
    ("accounts-unique-group-names", account_db.unique_group_names),
    ("mount-tmp-nodev", ROW),
    ("mount-tmp-nosuid", ROW),
    ("mount-tmp-noexec", ROW),
    ("mount-home-nodev", ROW),
    ("mount-home-nosuid", ROW),
    ("mount-var-nodev", ROW),
    ("mount-var-nosuid", ROW),
    ("mount-var-tmp-nodev", ROW),
    ("mount-var-tmp-nosuid", ROW),
    ("mount-var-tmp-noexec", ROW),
    ("mount-var-log-nodev", ROW),
    ("mount-var-log-nosuid", ROW),
    ("mount-var-log-noexec", ROW),
    ("mount-var-log-audit-nodev", ROW),
    ("mount-var-log-audit-nosuid", ROW),
    ("mount-var-log-audit-noexec", ROW),
    ("kernel-module-usb-storage", system.usb_storage_disabled),
    ("kernel-module-squashfs", system.squashfs_disabled),
    ("kernel-module-udf", system.udf_disabled),
    ("ssh-host-public-keys", ssh.host_public_keys),
    ("ssh-max-startups", ssh.max_startups),
    ("ssh-access-limited", ssh.access_limited),
    ("su-restricted", logins.su_restricted),
    ("shell-timeout", logins.shell_timeout),
    ("password-inactive", logins.password_inactive),
    ("accounts-system-no-shell", logins.system_accounts_no_shell),
    ("accounts-home-dirs", homes.home_dirs),
    ("accounts-dot-files", homes.dot_files),
    # cloud readiness (audit --cloud C)
    ("cloud-init-datasource", cloud.cloudinit_datasource),
    ("cloud-agent", cloud.cloud_agent),
    ("cloud-monitoring-agent", cloud.cloud_monitoring),
    ("cloud-time-sync", cloud.cloud_time),
    ("cloud-encryption-tools", cloud.encryption_tools),
)


def by_row(check_id: str) -> Predicate:
    """The predicate of a value check: its rows (read when it first runs) judged over the facts."""

    def predicate(facts: Facts, options: CheckOptions) -> Outcome:
        return judge(builtin_metadata()[check_id].value, facts)

    predicate.__name__ = predicate.__qualname__ = f"row:{check_id}"
    return predicate


CHECKS: dict[str, Predicate] = {
    check_id: by_row(check_id) if isinstance(entry, _Row) else entry for check_id, entry in REGISTRY
}
