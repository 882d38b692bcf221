"""The value rows of settings read from configuration files with drop-ins (checks/values.py judges every
other fact): ``pwquality``, each key as pam_pwquality uses it on each password-stack line (its argument,
else pwquality.conf.d and pwquality.conf, else libpwquality's default; ``op: present`` for a flag such as
enforce_for_root), ``journald``, each key after journald.conf's drop-ins (``op: in``), and ``units``,
whether systemd starts a service at boot (facts/units.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imagevet.facts import Facts
from imagevet.model import Evidence, Outcome, Status, Unknown

if TYPE_CHECKING:  # values.py imports this module for its table of judges
    from imagevet.checks.values import ValueRow

Judged = tuple[Status, list[Evidence]]


def pwquality_judged(facts: Facts, row: ValueRow) -> list[Judged] | Outcome:
    """Each key as pam_pwquality uses it on each line of the password stack: its own argument, else the
    pwquality.conf files, else libpwquality's default."""
    from imagevet.checks.accounts import stack_lines  # the PAM checks' own reading of the stack
    from imagevet.facts.pam import effective

    lines = stack_lines(facts, "password", "pam_pwquality.so")
    if isinstance(lines, Outcome):
        return lines
    judged: list[Judged] = []
    stop = facts.pam.pwquality_stop
    for line in lines:
        for key in row.keys:
            setting = effective(facts.pam.pwquality, line, key, fold_case=True)
            if row.op == "present":
                ok = setting is not None
                shown = f"pam_pwquality {key}" if ok else f"pam_pwquality {key} is not set (off by default)"
            else:
                value = setting.value if setting is not None else "?"
                ok = bool(row.test(value))
                default = " (library default)" if setting is not None and setting.path == "default" else ""
                shown = f"pam_pwquality {key} = {value}{default}; wanted {row.shown}"
            where = (
                (None, None) if setting is None or setting.path == "default" else (setting.path, setting.line)
            )
            judged.append((Status.PASS if ok else Status.FAIL, [Evidence(shown, *where)]))
    if stop is not None:  # what it read before applies: the verdict stands, and says why a value is missing
        judged.append((Status.PASS, [Evidence(stop)]))
    return judged


def journald_judged(facts: Facts, row: ValueRow) -> list[Judged] | Outcome:
    """Each key as journald reads it after its drop-ins; a key left to journald's default fails, as CIS's
    audit asks for it set (the default is the build's, not the image's setting). Skipped without journald,
    and where rsyslog or syslog-ng keeps the logs: the benchmarks ask for one logging system and its
    settings ("Ensure only one logging system is in use"), and SSG's rules judge journald.conf regardless."""
    journald = facts.journald
    if not journald.installed:
        return Outcome.of(Status.SKIP, "no systemd-journald in the image")
    from imagevet.checks.system import SYSLOG_PACKAGES
    from imagevet.checks.values import installed_packages

    packages = installed_packages(facts)
    if isinstance(packages, Outcome):
        return packages
    syslog = [name for name in SYSLOG_PACKAGES if name in packages]
    if syslog:
        detail = (
            f"{syslog[0]} is installed: CIS asks for journald's settings where journald is the logging system"
        )
        return Outcome.of(Status.SKIP, detail)
    settings = journald.effective
    if isinstance(settings, Unknown):
        return Outcome.of(Status.ERROR, settings.reason)
    judged: list[Judged] = []
    for key in row.keys:
        setting = settings.get(key)
        if setting is None:
            detail = f"{key} is not set in journald.conf or its drop-ins; wanted {row.shown}"
            judged.append((Status.FAIL, [Evidence(detail)]))
            continue
        shown = f"journald {key}={setting.value}; wanted {row.shown}"
        if row.op == "boolean":
            value = systemd_boolean(setting.value)
            if value is None:
                shown = f"journald {key}={setting.value}: no boolean, journald ignores it; wanted {row.shown}"
            ok = value is row.want
        else:
            ok = bool(row.test(setting.value))
        judged.append((Status.PASS if ok else Status.FAIL, [Evidence(shown, setting.path, setting.line)]))
    return judged


# systemd's parse_boolean (src/basic/parse-util.c, checked 2026-12-07): these words in any case; anything
# else is refused, and the setting is then ignored with a warning
_TRUE, _FALSE = ("1", "yes", "y", "true", "t", "on"), ("0", "no", "n", "false", "f", "off")


def systemd_boolean(value: str) -> bool | None:
    word = value.lower()
    return True if word in _TRUE else False if word in _FALSE else None


CONTAINER_UNITS = "a container image's processes are started by its runtime, not by systemd"
_STATES = {
    "enabled": "{} is started at boot",
    "masked": "{} is masked (never started)",
    "disabled": "{} is installed, and nothing starts it at boot",
}


def units_judged(facts: Facts, row: ValueRow) -> list[Judged] | Outcome:
    """``enabled``: the first of ``keys`` installed (the distributions' names for one service) is started
    at boot; none installed fails, or, with ``absent: skip``, is skipped (a service CIS asks about only
    where it is the one in use). ``disabled``: no key installed is started at boot; none installed passes.
    Skipped in a container image, whose processes its runtime starts, not systemd."""
    if facts.image is not None:
        return Outcome.of(Status.SKIP, CONTAINER_UNITS)
    states = []
    for name in row.keys:
        state = facts.unit(name)
        if isinstance(state, Unknown):
            return Outcome.of(Status.ERROR, state.reason)
        if state.state == "unknown":
            return Outcome.of(Status.ERROR, Evidence(f"{name}: {state.reason}", state.path))
        states.append(state)
    present = [state for state in states if state.state != "missing"]
    names = " or ".join(row.keys)
    if not present:
        if row.op == "disabled":
            return [(Status.PASS, [Evidence(f"no {names} in the image (not installed)")])]
        if row.absent_skips:
            return Outcome.of(Status.SKIP, f"no {names} in the image: not the one in use")
        return [(Status.FAIL, [Evidence(f"no {names} in the image (not installed)")])]
    chosen = present[:1] if row.op == "enabled" else present
    judged: list[Judged] = []
    for state in chosen:
        if row.op == "disabled" and state.vendor_link is not None:  # off by systemctl's word, not at boot
            shown = f"{state.name} is pulled in by the vendor's {state.vendor_link}, so boot starts it"
            judged.append((Status.FAIL, [Evidence(shown, state.vendor_link)]))
            continue
        ok = (state.state == "enabled") == (row.op == "enabled")
        judged.append(
            (
                Status.PASS if ok else Status.FAIL,
                [Evidence(_STATES[state.state].format(state.name), state.path)],
            )
        )
    return judged
