"""The Red Hat family's SELinux settings, one CIS Level 1 recommendation each: the mode is not disabled, a
policy is named, and the boot loader does not turn SELinux off. (That the mode is enforcing is Level 2,
judged by mac-enforcing.) On another family SELinux is not the access control CIS asks for: skipped."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.model import Evidence, Outcome, Status

POLICIES = ("targeted", "mls")  # what CIS accepts for SELINUXTYPE
MODES = ("enforcing", "permissive")


def _not_red_hat(facts: Facts) -> Outcome | None:
    if facts.family != "rhel":
        return Outcome.of(Status.SKIP, "SELinux settings are judged on the Red Hat family only")
    return None


def _config_setting(
    facts: Facts, value: str | None, evidence: Evidence | None, accepted: tuple[str, ...], missing: str
) -> Outcome:
    """One /etc/selinux/config setting against the values CIS accepts; a missing one fails."""
    if skipped := _not_red_hat(facts):
        return skipped
    if value is None or evidence is None:
        return Outcome.of(Status.FAIL, missing)
    return Outcome.of(Status.PASS if value in accepted else Status.FAIL, evidence)


def not_disabled(facts: Facts, options: CheckOptions) -> Outcome:
    """SELINUX= in /etc/selinux/config is enforcing or permissive (disabled, or unset, turns SELinux off)."""
    selinux = facts.mac.selinux
    return _config_setting(
        facts,
        selinux.mode,
        selinux.evidence,
        MODES,
        "SELinux is not configured (/etc/selinux/config absent or without SELINUX=)",
    )


def policy_configured(facts: Facts, options: CheckOptions) -> Outcome:
    """SELINUXTYPE= names the targeted or the mls policy."""
    selinux = facts.mac.selinux
    return _config_setting(
        facts,
        selinux.policy_type,
        selinux.type_evidence,
        POLICIES,
        "no SELinux policy is named (/etc/selinux/config without SELINUXTYPE=)",
    )


def boot_enabled(facts: Facts, options: CheckOptions) -> Outcome:
    """No selinux=0 or enforcing=0 on the kernel command line the boot loader gives (/etc/default/grub and
    grub.d, and each boot entry in /boot/loader/entries)."""
    if skipped := _not_red_hat(facts):
        return skipped
    mac = facts.mac
    if mac.cmdline.entries_problem:
        return Outcome.of(Status.ERROR, mac.cmdline.entries_problem)
    if reason := mac.selinux_disabled_by():
        return Outcome.of(Status.FAIL, reason)
    read = [*mac.cmdline.sources, *(entry.path for entry in mac.cmdline.entries)]
    if not read:
        return Outcome.of(
            Status.SKIP, "no boot loader configuration (/etc/default/grub, /boot/loader/entries)"
        )
    return Outcome(Status.PASS, tuple(Evidence("neither selinux=0 nor enforcing=0", path) for path in read))
