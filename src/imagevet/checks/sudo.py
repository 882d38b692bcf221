"""sudo's Defaults: every command on a pseudo-terminal (use_pty), a log file of what was run, a password
asked again after at most 15 minutes (timestamp_timeout), and authentication never switched off
(!authenticate). Each reads facts/sudoers.py, which follows sudo's own reading order; the setting in force
is the last unscoped one, and a scoped line that weakens a setting for some users fails too."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.facts.sudoers import Sudoers, SudoSetting
from imagevet.model import Evidence, Outcome, Status, Unknown

MAX_TIMEOUT_MINUTES = 15.0
SUDO_DEFAULT_TIMEOUT = 15.0  # sudoers(5): "The default is 15"


def _sudoers(facts: Facts) -> Sudoers | Outcome:
    sudoers = facts.sudoers
    if sudoers is None:
        return Outcome.of(Status.SKIP, "sudo is not installed (no /etc/sudoers)")
    if isinstance(sudoers, Unknown):
        return Outcome.of(Status.ERROR, sudoers.reason)
    return sudoers


def _evidence(setting: SudoSetting, note: str = "") -> Evidence:
    return Evidence(f"{setting.text}{note}", setting.path, setting.line)


def _flag_on(facts: Facts, name: str) -> Outcome:
    """A boolean flag that must be on for everyone: on in the last unscoped setting, off nowhere."""
    sudoers = _sudoers(facts)
    if isinstance(sudoers, Outcome):
        return sudoers
    off = [s for s in sudoers.named(name) if s.negated]
    current = sudoers.global_value(name)
    if current is None or current.negated:
        if current is None:
            return Outcome.of(Status.FAIL, f"no 'Defaults {name}' in /etc/sudoers or the files it includes")
        return Outcome(Status.FAIL, (_evidence(current, f" (the last unscoped setting of {name})"),))
    if off:
        return Outcome(Status.FAIL, tuple(_evidence(s, f" (turns {name} off)") for s in off))
    return Outcome(Status.PASS, (_evidence(current),))


def use_pty(facts: Facts, options: CheckOptions) -> Outcome:
    return _flag_on(facts, "use_pty")


def logfile(facts: Facts, options: CheckOptions) -> Outcome:
    sudoers = _sudoers(facts)
    if isinstance(sudoers, Outcome):
        return sudoers
    current = sudoers.global_value("logfile")
    if current is None:
        return Outcome.of(Status.FAIL, "no 'Defaults logfile=' in /etc/sudoers or the files it includes")
    if current.negated or not current.value:
        return Outcome(Status.FAIL, (_evidence(current, " (no log file)"),))
    return Outcome(Status.PASS, (_evidence(current),))


def _minutes(setting: SudoSetting) -> float | None:
    try:
        return float(setting.value or "")
    except ValueError:
        return None


def reauth_timeout(facts: Facts, options: CheckOptions) -> Outcome:
    sudoers = _sudoers(facts)
    if isinstance(sudoers, Outcome):
        return sudoers
    settings = sudoers.named("timestamp_timeout")
    failed: list[Evidence] = []
    errors: list[Evidence] = []
    for setting in settings:
        minutes = 0.0 if setting.negated else _minutes(setting)  # !timestamp_timeout: ask every time
        if minutes is None or setting.op not in ("", "="):
            errors.append(_evidence(setting, " (not a number of minutes: sudo rejects it)"))
        elif minutes < 0:
            failed.append(_evidence(setting, " (a negative timeout never expires)"))
        elif minutes > MAX_TIMEOUT_MINUTES:
            failed.append(_evidence(setting, f" (more than {MAX_TIMEOUT_MINUTES:g} minutes)"))
    if failed:
        return Outcome(Status.FAIL, tuple(failed + errors))
    if errors:
        return Outcome(Status.ERROR, tuple(errors))
    if not settings:
        return Outcome.of(
            Status.PASS, f"timestamp_timeout is not set: sudo's default of {SUDO_DEFAULT_TIMEOUT:g} minutes"
        )
    return Outcome(Status.PASS, tuple(_evidence(s) for s in settings))


def authenticate(facts: Facts, options: CheckOptions) -> Outcome:
    sudoers = _sudoers(facts)
    if isinstance(sudoers, Outcome):
        return sudoers
    off = [s for s in sudoers.named("authenticate") if s.negated]
    if off:
        return Outcome(Status.FAIL, tuple(_evidence(s, " (sudo asks no password)") for s in off))
    files = ", ".join(sudoers.files)
    return Outcome.of(Status.PASS, f"no '!authenticate' in {files}")
