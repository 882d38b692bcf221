"""Checks of the system's protections: MAC, automatic updates, cloud-init, sysctl."""

from __future__ import annotations

from collections.abc import Callable

from imagevet.checks.base import CheckOptions
from imagevet.errors import VersionError
from imagevet.facts import Facts
from imagevet.model import Evidence, Outcome, Status, Unknown
from imagevet.versions.deb import compare_deb
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


def cloudinit_version(facts: Facts, options: CheckOptions) -> Outcome:
    cloud_init = facts.cloud_init
    if cloud_init is None:
        return Outcome.of(Status.FAIL, "cloud-init is not installed")
    if isinstance(cloud_init, Unknown):
        return Outcome.of(Status.ERROR, cloud_init.reason)
    shown = cloud_init.package_version or cloud_init.version
    wanted = options.min_cloud_init
    try:
        newer = compare_deb(cloud_init.version, wanted) >= 0
    except VersionError as exc:
        return Outcome.of(
            Status.ERROR, f"cloud-init version {cloud_init.version!r} cannot be compared: {exc}"
        )
    evidence = Evidence(f"cloud-init {shown} (from {cloud_init.source}); required >= {wanted}")
    return Outcome(Status.PASS if newer else Status.FAIL, (evidence,))


def sysctl_outcome(facts: Facts, key: str, is_ok: Callable[[int], bool], wanted: str) -> Outcome:
    """Judge the boot-time value of ``key`` (and the running value on a live host) with ``is_ok``."""
    value = facts.sysctl.get(key)
    if isinstance(value, Unknown):
        return Outcome.of(Status.ERROR, value.reason)
    evidence = [Evidence(f"{key} = {value.value} ({value.where()}); wanted {wanted}", value.path, value.line)]
    try:
        ok = is_ok(int(value.value))
    except ValueError:
        return Outcome.of(Status.ERROR, f"{key} = {value.value!r} is not a number ({value.where()})")
    if value.running is not None:
        evidence.append(Evidence(f"running kernel: {key} = {value.running}"))
        try:
            ok = ok and is_ok(int(value.running))
        except ValueError:
            ok = False
    return Outcome(Status.PASS if ok else Status.FAIL, tuple(evidence))


def rp_filter(facts: Facts, options: CheckOptions) -> Outcome:
    return sysctl_outcome(facts, "net.ipv4.conf.all.rp_filter", lambda v: v == 1, "1 (strict)")


def swappiness(facts: Facts, options: CheckOptions) -> Outcome:
    return sysctl_outcome(facts, "vm.swappiness", lambda v: v <= 10, "<= 10")


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
    image = facts.target.info.image
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
