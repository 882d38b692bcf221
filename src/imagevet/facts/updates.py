"""Automatic security updates: unattended-upgrades (Debian family), dnf-automatic / yum-cron (RHEL)."""

from __future__ import annotations

from dataclasses import dataclass, field

from imagevet.facts.aptconf import AptValue, gather_apt_conf
from imagevet.model import Evidence, Package, Unknown
from imagevet.target.base import Target

SYSTEMD_UNIT_DIRS = ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
DNF_AUTOMATIC_CONF = "/etc/dnf/automatic.conf"
YUM_CRON_CONF = "/etc/yum/yum-cron.conf"


@dataclass
class UpdatesFacts:
    """Which mechanism is present, whether it installs updates unattended, and what shows it."""

    mechanism: str | None
    enabled: bool
    evidence: list[Evidence] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def unit_state(target: Target, unit: str, wanted_by: str) -> str:
    """``masked``, ``enabled`` (linked into ``wanted_by``), ``disabled`` (unit exists) or ``missing``."""
    if target.readlink(f"/etc/systemd/system/{unit}") == "/dev/null":
        return "masked"
    if any(target.exists(f"{d}/{wanted_by}.wants/{unit}") for d in SYSTEMD_UNIT_DIRS):
        return "enabled"
    if any(target.exists(f"{d}/{unit}") for d in SYSTEMD_UNIT_DIRS):
        return "disabled"
    return "missing"


def _periodic(values: dict[str, AptValue], name: str) -> AptValue | None:
    return values.get(f"apt::periodic::{name.lower()}")


def _is_on(value: AptValue | None) -> bool:
    """APT::Periodic intervals: a positive number of days (or 'always') turns the task on."""
    if value is None:
        return False
    text = value.value.strip().lower()
    if text in ("always", "true", "yes"):
        return True
    digits = text.rstrip("dhms")
    return digits.isdigit() and int(digits) > 0


def debian_updates(target: Target, packages: dict[str, Package] | Unknown | None) -> UpdatesFacts | Unknown:
    if isinstance(packages, Unknown):  # an unreadable package database says nothing about what is installed
        return Unknown(f"cannot tell whether unattended-upgrades is installed: {packages.reason}")
    facts = UpdatesFacts("unattended-upgrades", False)
    if not isinstance(packages, dict) or "unattended-upgrades" not in packages:
        facts.evidence.append(Evidence("the unattended-upgrades package is not installed"))
        return facts
    facts.evidence.append(
        Evidence(f"unattended-upgrades {packages['unattended-upgrades'].version} is installed")
    )
    values, facts.problems = gather_apt_conf(target)
    enable = _periodic(values, "Enable")
    if enable is not None and not _is_on(enable):
        facts.evidence.append(
            Evidence(
                f'APT::Periodic::Enable "{enable.value}" turns periodic apt off', enable.path, enable.line
            )
        )
        return facts
    ok = True
    for name in ("Update-Package-Lists", "Unattended-Upgrade"):
        value = _periodic(values, name)
        if value is None:
            facts.evidence.append(Evidence(f"APT::Periodic::{name} is not set (off)"))
            ok = False
        else:
            facts.evidence.append(Evidence(f'APT::Periodic::{name} "{value.value}"', value.path, value.line))
            ok = ok and _is_on(value)
    for unit in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        state = unit_state(target, unit, "timers.target")
        if state != "enabled":
            facts.evidence.append(Evidence(f"{unit} is {state}"))
            ok = False
    facts.enabled = ok
    return facts


def _ini_value(text: str, section: str, key: str) -> str | None:
    import configparser  # only for an image with its update configuration

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return parser.get(section, key, fallback=None)


def rhel_updates(target: Target) -> UpdatesFacts:
    for timer, forces_apply in (
        ("dnf-automatic-install.timer", True),
        ("dnf-automatic.timer", False),
        ("dnf5-automatic.timer", False),
    ):
        state = unit_state(target, timer, "timers.target")
        if state == "missing":
            continue
        facts = UpdatesFacts("dnf-automatic", False)
        facts.evidence.append(Evidence(f"{timer} is {state}"))
        if state != "enabled":
            continue
        if forces_apply:
            facts.enabled = True
            return facts
        text = target.read_text(DNF_AUTOMATIC_CONF)
        if isinstance(text, Unknown):
            facts.problems.append(text.reason)
            return facts
        apply = _ini_value(text, "commands", "apply_updates")
        facts.evidence.append(Evidence(f"apply_updates = {apply or 'no (default)'}", DNF_AUTOMATIC_CONF))
        facts.enabled = (apply or "no").strip().lower() in ("yes", "true", "1", "on")
        return facts
    if target.exists(YUM_CRON_CONF):
        facts = UpdatesFacts("yum-cron", False)
        state = unit_state(target, "yum-cron.service", "multi-user.target")
        facts.evidence.append(Evidence(f"yum-cron.service is {state}"))
        text = target.read_text(YUM_CRON_CONF)
        apply = None if isinstance(text, Unknown) else _ini_value(text, "commands", "apply_updates")
        facts.evidence.append(Evidence(f"apply_updates = {apply or 'no (default)'}", YUM_CRON_CONF))
        facts.enabled = state == "enabled" and (apply or "no").strip().lower() in ("yes", "true", "1", "on")
        return facts
    return UpdatesFacts(
        None, False, [Evidence("neither dnf-automatic nor yum-cron is installed and enabled")]
    )


def gather_updates(
    target: Target, family: str, packages: dict[str, Package] | Unknown | None
) -> UpdatesFacts | Unknown:
    if family == "debian":
        return debian_updates(target, packages)
    if family == "rhel":
        return rhel_updates(target)
    return Unknown(f"automatic update detection is not implemented for the {family} family yet")
