"""The explicit list of checks: id -> predicate. No import side effects, no package walking."""

from __future__ import annotations

from imagevet.checks import accounts, lifecycle, ssh, system
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
}
