"""Who may schedule jobs: cron and at restricted to the users named in /etc/cron.allow and /etc/at.allow.

Without an allow file, cron and at fall back to their deny file, or let everyone in; CIS asks on every
benchmark imagevet maps for the allow file (owned by root, group root or the daemon's own group, mode 0640
or stricter) and, as ComplianceAsCode's rules judge it (file_cron_deny_not_exist,
file_at_deny_not_exist), no cron.deny; the Debian family's at may keep an at.deny as strict as its
at.allow (file_owner_at_deny, file_groupowner_at_deny, file_permissions_at_deny). Skipped where the
scheduler is not installed."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.checks.modes import file_mode
from imagevet.checks.values import installed_packages
from imagevet.facts import Facts
from imagevet.model import Evidence, Outcome, Status

CRON_PACKAGES = ("cron", "cronie", "systemd-cron", "bcron")
AT_PACKAGES = ("at",)
ALLOW_MODE = 0o640


def _restricted(
    facts: Facts,
    packages: tuple[str, ...],
    allow: str,
    deny: str,
    groups: tuple[str, ...],
    deny_may_stay: bool,
) -> Outcome:
    installed = installed_packages(facts)
    if isinstance(installed, Outcome):
        return installed
    if not any(name in installed for name in packages):
        return Outcome.of(Status.SKIP, f"none of {', '.join(packages)} is installed")
    files = facts.system_files
    if allow not in files.present:
        return Outcome.of(
            Status.FAIL, Evidence(f"{allow} does not exist: every user may schedule jobs", allow)
        )
    outcome = file_mode(files, allow, ALLOW_MODE, groups)
    if deny not in files.present or outcome.status is Status.ERROR:
        return outcome
    if not deny_may_stay:
        evidence = Evidence(f"{deny} exists (the allow file alone should decide)", deny)
        return Outcome(Status.FAIL, (*outcome.evidence, evidence))
    kept = file_mode(files, deny, ALLOW_MODE, groups)
    worst = max(outcome.status, kept.status, key=(Status.PASS, Status.FAIL, Status.ERROR).index)
    return Outcome(worst, (*outcome.evidence, *kept.evidence))


def cron_restricted(facts: Facts, options: CheckOptions) -> Outcome:
    """/etc/cron.allow exists, root's, group root or crontab (Debian's crontab command group), <= 0640;
    no /etc/cron.deny."""
    return _restricted(facts, CRON_PACKAGES, "/etc/cron.allow", "/etc/cron.deny", ("root", "crontab"), False)


def at_restricted(facts: Facts, options: CheckOptions) -> Outcome:
    """/etc/at.allow exists, root's, group root (or daemon, at's group on the Debian family), <= 0640; no
    /etc/at.deny on the Red Hat family, one as strict as at.allow on the Debian family."""
    debian = facts.family == "debian"
    groups = ("root", "daemon") if debian else ("root",)
    return _restricted(facts, AT_PACKAGES, "/etc/at.allow", "/etc/at.deny", groups, debian)
