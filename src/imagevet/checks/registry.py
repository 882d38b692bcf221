"""The explicit list of checks: id -> predicate. No import side effects, no package walking."""

from __future__ import annotations

from imagevet.checks import accounts, hardening, lifecycle, ssh, system
from imagevet.checks.base import Predicate

CHECKS: dict[str, Predicate] = {
    "ssh-password-auth": ssh.password_auth,
    "ssh-root-login": ssh.root_login,
    "ssh-empty-passwords": ssh.empty_passwords,
    "accounts-empty-password": accounts.empty_password,
    "accounts-default-password": accounts.default_password,
    "accounts-root-locked": accounts.root_locked,
    "mac-enforcing": system.mac_enforcing,
    "updates-automatic": system.updates_automatic,
    "cloudinit-version": system.cloudinit_version,
    "updates-pending-security": system.updates_pending_security,
    "sysctl-rp-filter": system.rp_filter,
    "sysctl-swappiness": system.swappiness,
    "container-user": system.container_user,
    "os-lts": lifecycle.os_lts,
    "os-supported": lifecycle.os_supported,
    "os-support-window": lifecycle.os_support_window,
    # CIS Level 1 kind of hardening (profiles cis-l1, mlps-l3, pci-dss)
    "file-perms-passwd": hardening.perms_passwd,
    "file-perms-group": hardening.perms_group,
    "file-perms-shadow": hardening.perms_shadow,
    "file-perms-gshadow": hardening.perms_gshadow,
    "file-perms-sshd-config": hardening.perms_sshd_config,
    "ssh-host-keys": hardening.ssh_host_keys,
    "ssh-max-auth-tries": hardening.ssh_max_auth_tries,
    "ssh-login-grace-time": hardening.ssh_login_grace_time,
    "ssh-client-alive": hardening.ssh_client_alive,
    "ssh-x11-forwarding": hardening.ssh_x11_forwarding,
    "ssh-ignore-rhosts": hardening.ssh_ignore_rhosts,
    "ssh-hostbased-auth": hardening.ssh_hostbased,
    "ssh-permit-user-env": hardening.ssh_user_environment,
    "ssh-log-level": hardening.ssh_log_level,
    "sysctl-aslr": hardening.sysctl_aslr,
    "sysctl-suid-dumpable": hardening.sysctl_suid_dumpable,
    "sysctl-accept-redirects": hardening.sysctl_accept_redirects,
    "sysctl-send-redirects": hardening.sysctl_send_redirects,
    "sysctl-source-route": hardening.sysctl_source_route,
    "sysctl-log-martians": hardening.sysctl_log_martians,
    "sysctl-syncookies": hardening.sysctl_syncookies,
    "sysctl-ip-forward": hardening.sysctl_ip_forward,
    "packages-insecure-absent": hardening.insecure_packages_absent,
    "time-sync-installed": hardening.time_sync_installed,
    "auditd-installed": hardening.auditd_installed,
    "sudo-use-pty": hardening.sudo_use_pty,
    "sudo-logfile": hardening.sudo_logfile,
    "tmp-separate": hardening.tmp_separate,
}
