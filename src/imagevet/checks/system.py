"""Checks of the system's protections that belong to no other subject: mandatory access control, updates,
the image's source, the container user, /tmp, core dumps, kernel modules and logging. ``default-umask`` is
a value row in system.yaml."""

from __future__ import annotations

from collections.abc import Callable

from imagevet.checks.base import CheckOptions
from imagevet.checks.values import DEV_SHM_UNKNOWN, installed_packages, mount_table
from imagevet.facts import Facts
from imagevet.facts.crypto_policy import CONFIG as CRYPTO_CONFIG
from imagevet.facts.modprobe import Undecided
from imagevet.facts.systemd_conf import first_setting
from imagevet.model import Evidence, Outcome, Status, Unknown
from imagevet.vuln.coverage import describe


def mac_enforcing(facts: Facts, options: CheckOptions) -> Outcome:
    mac = facts.mac
    family = facts.family
    evidence: list[Evidence] = []

    selinux = mac.selinux
    selinux_ok = selinux.mode == "enforcing"
    if selinux.mode is None:
        evidence.append(
            Evidence("SELinux is not configured (/etc/selinux/config absent or without SELINUX=)")
        )
    elif selinux.evidence is not None:
        evidence.append(selinux.evidence)
    if family == "rhel" and mac.cmdline.entries_problem:  # a boot entry not read may turn SELinux off
        return Outcome.of(Status.ERROR, mac.cmdline.entries_problem)
    if reason := mac.selinux_disabled_by():
        selinux_ok = False
        evidence.append(Evidence(reason))
    if selinux_ok and selinux.runtime_enforcing is False:
        selinux_ok = False
        evidence.append(Evidence("the running kernel is not enforcing SELinux (/sys/fs/selinux/enforce)"))

    apparmor = mac.apparmor
    apparmor_ok = apparmor.installed and bool(apparmor.profiles)
    if not apparmor.installed:
        evidence.append(Evidence("AppArmor is not installed (no apparmor_parser, no apparmor package)"))
    else:
        evidence.append(
            Evidence(f"AppArmor is installed with {len(apparmor.profiles)} profile(s) in /etc/apparmor.d")
        )
    if apparmor.installed and (reason := mac.apparmor_disabled_by()):
        apparmor_ok = False
        evidence.append(Evidence(reason))
    if apparmor_ok and apparmor.runtime_enabled is False:
        apparmor_ok = False
        evidence.append(Evidence("the running kernel has AppArmor disabled (/sys/module/apparmor)"))

    ok = selinux_ok if family == "rhel" else (apparmor_ok or selinux_ok)
    if not ok and family != "rhel" and not apparmor.installed and isinstance(facts.packages, Unknown):
        return Outcome.of(Status.ERROR, f"cannot tell whether AppArmor is installed: {facts.packages.reason}")
    return Outcome(Status.PASS if ok else Status.FAIL, tuple(evidence))


def updates_automatic(facts: Facts, options: CheckOptions) -> Outcome:
    updates = facts.updates
    if isinstance(updates, Unknown):
        return Outcome.of(Status.ERROR, updates.reason)
    evidence = list(updates.evidence) + [Evidence(p) for p in updates.problems]
    return Outcome(Status.PASS if updates.enabled else Status.FAIL, tuple(evidence))


def _pending_from_package_manager(facts: Facts) -> Outcome | None:
    """The live host's own view (SSH targets): security updates its package manager offers."""
    pending = facts.pending_updates
    if pending is None:
        return None
    if isinstance(pending, Unknown):
        return Outcome.of(Status.ERROR, pending.reason)
    if not pending:
        return Outcome.of(Status.PASS, "the host's package manager offers no security update")
    evidence = [
        Evidence(f"{u.package} {u.installed} -> {u.available} ({u.source})".replace("  ", " "))
        for u in pending[:15]
    ]
    if len(pending) > 15:
        evidence.append(Evidence(f"and {len(pending) - 15} more security update(s)"))
    return Outcome(Status.FAIL, tuple(evidence))


def updates_pending_security(facts: Facts, options: CheckOptions) -> Outcome:
    """Decided by the advisory database when it covers the image's ecosystem and is fresh; else, on a live
    host, by its own package manager; else ``error`` with the reason (which names the fix)."""
    found = facts.vulnerabilities
    if isinstance(found, Unknown):
        live = _pending_from_package_manager(facts)
        if live is not None and live.status is not Status.ERROR:
            return Outcome(live.status, (*live.evidence, Evidence(f"advisory database not used: {found}")))
        return Outcome.of(Status.ERROR, found.reason)
    coverage = Evidence(describe(found.coverage))
    warnings = tuple(Evidence(f"warning: {w}") for w in found.coverage.warnings)
    fixable = [f for f in found.findings if f.fixed]
    if not fixable:
        unfixed = len(found.findings)
        detail = "no installed package has a security fix waiting"
        detail += f"; {unfixed} known issue(s) without a fix yet" if unfixed else ""
        return Outcome(Status.PASS, (Evidence(detail), coverage, *warnings))
    by_package: dict[str, list[str]] = {}
    for finding in fixable:
        by_package.setdefault(f"{finding.package} {finding.installed} -> {finding.fixed}", []).append(
            finding.id
        )
    evidence = [
        Evidence(f"{line} ({', '.join(ids[:3])}{'…' if len(ids) > 3 else ''})")
        for line, ids in list(by_package.items())[:15]
    ]
    if len(by_package) > 15:
        evidence.append(Evidence(f"and {len(by_package) - 15} more package(s); see 'imagevet vuln'"))
    return Outcome(Status.FAIL, (*evidence, coverage, *warnings))


def container_user(facts: Facts, options: CheckOptions) -> Outcome:
    image = facts.image
    if image is None:
        return Outcome.of(Status.SKIP, "not a container image")
    user = image.user.strip()
    name = user.split(":", 1)[0]
    if not user or name in ("root", "0"):
        shown = user or "not set (root)"
        return Outcome.of(Status.FAIL, f"the image config's User is {shown}: the container runs as root")
    return Outcome.of(Status.PASS, f"the image config's User is {user}")


def source_official(facts: Facts, options: CheckOptions) -> Outcome:
    """The image id (--image-id) comes from an official publisher and is not deprecated."""
    found = options.provenance
    if found is None:
        return Outcome.of(Status.SKIP, "no --image-id given: the image's source was not verified")
    why = "; ".join(found.reasons)
    if found.verdict == "unknown":
        return Outcome.of(Status.ERROR, f"{found.cloud} {found.image_id}: {why}")
    detail = f"{found.cloud} {found.image_id} ({found.name or 'no name'}): {why}"
    return Outcome.of(Status.FAIL if found.gate_fails() else Status.PASS, detail)


def tmp_separate(facts: Facts, options: CheckOptions) -> Outcome:
    mounts = mount_table(facts)
    if isinstance(mounts, Outcome):
        return mounts
    entry = mounts.entry("/tmp")
    if entry is not None:
        return Outcome.of(
            Status.PASS, Evidence(f"/tmp is mounted as {entry.fstype}", "/etc/fstab", entry.line)
        )
    if mounts.tmp_mount_units:
        return Outcome.of(Status.PASS, Evidence("tmp.mount is enabled", mounts.tmp_mount_units[0]))
    return Outcome.of(
        Status.FAIL, "/tmp is not a separate mount (no /etc/fstab entry, tmp.mount not enabled)"
    )


def dev_shm_separate(facts: Facts, options: CheckOptions) -> Outcome:
    """/dev/shm is a tmpfs of its own where fstab mounts one, and on every image with systemd, which mounts
    it at boot without a line (facts/mounts.py). With neither, nothing the image holds is known to mount
    it: a fail (as for /tmp), which the fix's fstab line settles."""
    mounts = mount_table(facts)
    if isinstance(mounts, Outcome):
        return mounts
    entry = mounts.effective("/dev/shm")
    if entry is not None:
        return Outcome.of(
            Status.PASS, Evidence(f"/dev/shm is mounted as {entry.fstype}", "/etc/fstab", entry.line)
        )
    if mounts.dev_shm_options is not None:
        program = mounts.dev_shm_options[1] if isinstance(mounts.dev_shm_options, tuple) else None
        return Outcome.of(
            Status.PASS, Evidence("systemd mounts a tmpfs at /dev/shm at boot (no /etc/fstab line)", program)
        )
    return Outcome.of(Status.FAIL, DEV_SHM_UNKNOWN)


def core_dumps_restricted(facts: Facts, options: CheckOptions) -> Outcome:
    """A hard core limit of 0 in limits.conf(.d), or systemd-coredump told not to store dumps."""
    for limit in facts.limits:
        if (limit.domain, limit.type, limit.item, limit.value) == ("*", "hard", "core", "0"):
            return Outcome.of(Status.PASS, Evidence("* hard core 0", limit.path, limit.line))
    found = first_setting(facts.coredump_conf, "Storage", "none")
    if found:
        return Outcome.of(Status.PASS, Evidence("Storage=none", found.path, found.line))
    return Outcome.of(
        Status.FAIL, "no '* hard core 0' in limits.conf and systemd-coredump is not set to Storage=none"
    )


UNUSED_FILESYSTEMS = ("cramfs", "freevxfs", "hfs", "hfsplus", "jffs2", "udf")


def _modules_disabled(facts: Facts, names: tuple[str, ...]) -> Outcome:
    """Each module kept from loading: the first install line modprobe finds for it (facts/modprobe.py,
    every modprobe.d directory in kmod's order) runs /bin/false or /bin/true. A later line that disables
    it does nothing after an earlier one that loads it."""
    lines = facts.modprobe
    if isinstance(lines, Unknown):
        return Outcome.of(Status.ERROR, lines.reason)
    disabled, loading, missing = [], [], []
    for name in names:
        try:
            first = next((line for line in lines if line.matches(name)), None)
        except Undecided as why:
            return Outcome.of(
                Status.ERROR, f"modprobe.d pattern {why} is not judged (a class inside brackets)"
            )
        if first is not None and first.disables:
            disabled.append(Evidence(first.text, first.path, first.line))
            continue
        missing.append(name)
        if first is not None:
            shown = f"{name}: modprobe runs this install line first: {first.text}"
            loading.append(Evidence(shown, first.path, first.line))
    if missing:
        return Outcome(Status.FAIL, (Evidence(f"not disabled in modprobe.d: {', '.join(missing)}"), *loading))
    return Outcome(Status.PASS, tuple(disabled))


def filesystem_modules_disabled(facts: Facts, options: CheckOptions) -> Outcome:
    return _modules_disabled(facts, UNUSED_FILESYSTEMS)


def module_disabled(name: str) -> Callable[[Facts, CheckOptions], Outcome]:
    """The check of one module (kernel-module-<name>): one CIS recommendation each, so a module left
    loadable fails its own recommendation and no other."""

    def check(facts: Facts, options: CheckOptions) -> Outcome:
        return _modules_disabled(facts, (name,))

    check.__doc__ = f"The {name} kernel module cannot be loaded (facts/modprobe.py)."
    return check


def usb_storage_disabled(facts: Facts, options: CheckOptions) -> Outcome:
    """A server takes no USB sticks: the usb-storage driver is the way data leaves on one."""
    return _modules_disabled(facts, ("usb-storage",))


SYSLOG_PACKAGES = ("rsyslog", "syslog-ng", "syslog-ng-core")


def logging_configured(facts: Facts, options: CheckOptions) -> Outcome:
    packages = installed_packages(facts)
    if isinstance(packages, Outcome):
        return packages
    if any(name in packages for name in SYSLOG_PACKAGES):
        return Outcome.of(Status.PASS, "a syslog daemon is installed")
    journald = facts.journald
    found = first_setting(journald.settings, "Storage", "persistent")
    if found:
        return Outcome.of(Status.PASS, Evidence("journald Storage=persistent", found.path, found.line))
    if journald.journal_dir:
        return Outcome.of(
            Status.PASS,
            Evidence("/var/log/journal exists: journald keeps logs across reboots", "/var/log/journal"),
        )
    return Outcome.of(Status.FAIL, "no syslog daemon and journald does not keep logs across reboots")


def crypto_policy_not_legacy(facts: Facts, options: CheckOptions) -> Outcome:
    """The system-wide crypto policy is not LEGACY (CIS's audit greps /etc/crypto-policies/config)."""
    policy = facts.crypto_policy
    if policy is None:
        return Outcome.of(Status.SKIP, "no system-wide crypto policy (crypto-policies is not installed)")
    if isinstance(policy, Unknown):
        return Outcome.of(Status.ERROR, policy.reason)
    shown = ":".join((policy.policy, *policy.modules))
    where = Evidence(f"crypto policy {shown}", CRYPTO_CONFIG, policy.line or None)
    if policy.policy.upper() == "LEGACY":
        return Outcome.of(Status.FAIL, where)
    return Outcome.of(Status.PASS, where)
